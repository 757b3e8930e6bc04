-- Kiln metadata, PostgreSQL flavour. Records are stored whole as JSON documents (doc/config) so
-- that fields added to them later need no migration; the other columns are copies of the keys and
-- values that queries filter, sort or sum on.
--
-- Names use COLLATE "C" (byte order) so that listings and paging markers order exactly as on
-- SQLite, whatever locale the database was created with.

-- seq gives "oldest first" a total order even for credentials created in the same instant.
CREATE TABLE credentials (
  seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  access_key_id     text COLLATE "C" NOT NULL UNIQUE,
  secret_access_key text NOT NULL,
  account           text COLLATE "C" NOT NULL,
  created_at        timestamptz NOT NULL
);
CREATE INDEX credentials_by_account ON credentials (account, seq);

CREATE TABLE functions (
  account                text COLLATE "C" NOT NULL,
  name                   text COLLATE "C" NOT NULL,
  last_published_version bigint NOT NULL,
  created_at             timestamptz NOT NULL,
  doc                    jsonb NOT NULL,
  PRIMARY KEY (account, name)
);

-- version_order is 0 for $LATEST and the number of a published version, so versions sort
-- numerically (2 before 10) and paging can continue after any of them.
CREATE TABLE function_versions (
  account       text COLLATE "C" NOT NULL,
  function_name text COLLATE "C" NOT NULL,
  version       text COLLATE "C" NOT NULL,
  version_order bigint NOT NULL,
  code_sha256   text COLLATE "C",
  code_size     bigint NOT NULL,
  state              text NOT NULL,
  last_update_status text NOT NULL,
  config        jsonb NOT NULL,
  PRIMARY KEY (account, function_name, version),
  UNIQUE (account, function_name, version_order),
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
);
-- The code store asks whether any version still uses a package before deleting it.
CREATE INDEX function_versions_by_code ON function_versions (code_sha256);
-- On start the server resumes the changes accepted but not activated yet; they are few.
CREATE INDEX function_versions_awaiting_activation ON function_versions (account, function_name, version_order)
  WHERE state = 'Pending' OR last_update_status = 'InProgress';

CREATE TABLE aliases (
  account          text COLLATE "C" NOT NULL,
  function_name    text COLLATE "C" NOT NULL,
  name             text COLLATE "C" NOT NULL,
  function_version text COLLATE "C" NOT NULL,
  config           jsonb NOT NULL,
  PRIMARY KEY (account, function_name, name),
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
);
