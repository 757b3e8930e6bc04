-- Function URL configurations. qualifier is an alias name, or $LATEST for the function's own URL
-- ('$' sorts before every character an alias may use, so it lists first). url_id names the URL's
-- host and is how an incoming request finds its configuration.
CREATE TABLE function_urls (
  account       text COLLATE "C" NOT NULL,
  function_name text COLLATE "C" NOT NULL,
  qualifier     text COLLATE "C" NOT NULL,
  url_id        text COLLATE "C" NOT NULL UNIQUE,
  doc           jsonb NOT NULL,
  PRIMARY KEY (account, function_name, qualifier),
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
);
