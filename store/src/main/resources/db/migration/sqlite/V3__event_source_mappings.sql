-- Event-source mappings. The mapping is stored whole as a JSON document; the other columns copy
-- what queries filter on. source_key identifies the queue or Kafka topic, so one function (and
-- qualifier) maps one source at most once, as Lambda allows; qualifier is '' when unqualified.
-- Kafka positions live in the cluster's consumer group, as Lambda keeps them; SQS needs none.
CREATE TABLE event_source_mappings (
  uuid             TEXT NOT NULL PRIMARY KEY,
  account          TEXT NOT NULL,
  function_name    TEXT NOT NULL,
  qualifier        TEXT NOT NULL,
  source_key       TEXT NOT NULL,
  event_source_arn TEXT,
  doc              TEXT NOT NULL,
  UNIQUE (account, function_name, qualifier, source_key),
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
) STRICT;
-- ListEventSourceMappings pages through an account's mappings in UUID order.
CREATE INDEX event_source_mappings_by_account ON event_source_mappings (account, uuid);
