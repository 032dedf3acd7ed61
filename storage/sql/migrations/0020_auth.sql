-- Authentication and authorization (auth/): API tokens (only their SHA-256 is stored), grants of a
-- permission per principal and resource, and administrators. Times are BIGINT milliseconds since
-- the Unix epoch. Grants name resources by id (experiments) or name (registered models) without
-- foreign keys: the services they guard own those tables, and auth/ follows renames and deletions.

CREATE TABLE auth_tokens (
  token_id       TEXT   PRIMARY KEY,
  principal      TEXT   NOT NULL,
  -- Lower-case hex SHA-256 of the whole token string: what a presented token is looked up by.
  secret_sha256  TEXT   NOT NULL,
  description    TEXT   NOT NULL DEFAULT '',
  creation_time  BIGINT NOT NULL,
  -- NULL: never expires.
  expire_time    BIGINT,
  last_used_time BIGINT,
  revoke_time    BIGINT,
  created_by     TEXT   NOT NULL,
  CONSTRAINT auth_tokens_secret_key UNIQUE (secret_sha256)
);
CREATE INDEX auth_tokens_principal_idx ON auth_tokens (principal, creation_time);

CREATE TABLE auth_grants (
  principal     TEXT   NOT NULL,
  resource_kind TEXT   NOT NULL CHECK (resource_kind IN ('experiment', 'registered_model')),
  -- An experiment id, a registered model name, or '*' for every resource of the kind.
  resource_id   TEXT   NOT NULL,
  permission    TEXT   NOT NULL CHECK (permission IN ('none', 'read', 'edit', 'manage')),
  update_time   BIGINT NOT NULL,
  PRIMARY KEY (principal, resource_kind, resource_id)
);
CREATE INDEX auth_grants_resource_idx ON auth_grants (resource_kind, resource_id);

CREATE TABLE auth_admins (
  principal     TEXT   PRIMARY KEY,
  creation_time BIGINT NOT NULL
);
