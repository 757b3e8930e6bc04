-- Kiln metadata, SQLite flavour. Records are stored whole as JSON documents (doc/config) so that
-- fields added to them later need no migration; the other columns are copies of the keys and
-- values that queries filter, sort or sum on. STRICT makes SQLite check the declared types.

-- seq gives "oldest first" a total order even for credentials created in the same instant.
CREATE TABLE credentials (
  seq               INTEGER PRIMARY KEY AUTOINCREMENT,
  access_key_id     TEXT    NOT NULL UNIQUE,
  secret_access_key TEXT    NOT NULL,
  account           TEXT    NOT NULL,
  created_at        TEXT    NOT NULL
) STRICT;
CREATE INDEX credentials_by_account ON credentials (account, seq);

CREATE TABLE functions (
  account                TEXT    NOT NULL,
  name                   TEXT    NOT NULL,
  last_published_version INTEGER NOT NULL,
  created_at             TEXT    NOT NULL,
  doc                    TEXT    NOT NULL,
  PRIMARY KEY (account, name)
) STRICT;

-- version_order is 0 for $LATEST and the number of a published version, so versions sort
-- numerically (2 before 10) and paging can continue after any of them.
CREATE TABLE function_versions (
  account       TEXT    NOT NULL,
  function_name TEXT    NOT NULL,
  version       TEXT    NOT NULL,
  version_order INTEGER NOT NULL,
  code_sha256   TEXT,
  code_size     INTEGER NOT NULL,
  state              TEXT NOT NULL,
  last_update_status TEXT NOT NULL,
  config        TEXT    NOT NULL,
  PRIMARY KEY (account, function_name, version),
  UNIQUE (account, function_name, version_order),
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
) STRICT;
-- The code store asks whether any version still uses a package before deleting it.
CREATE INDEX function_versions_by_code ON function_versions (code_sha256);
-- On start the server resumes the changes accepted but not activated yet; they are few.
CREATE INDEX function_versions_awaiting_activation ON function_versions (account, function_name, version_order)
  WHERE state = 'Pending' OR last_update_status = 'InProgress';

CREATE TABLE aliases (
  account          TEXT NOT NULL,
  function_name    TEXT NOT NULL,
  name             TEXT NOT NULL,
  function_version TEXT NOT NULL,
  config           TEXT NOT NULL,
  PRIMARY KEY (account, function_name, name),
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
) STRICT;
