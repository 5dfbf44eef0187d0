-- Up Migration
-- Tokens die with their user: a token carries the version it was issued at,
-- and disabling a user or changing their role bumps it, so every older token
-- stops working at once. `staff` checks tickets in (the check-in actor).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'staff', 'admin'));
ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled'));
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE users DROP COLUMN token_version;
ALTER TABLE users DROP COLUMN status;
ALTER TABLE users DROP CONSTRAINT users_role_check;
UPDATE users SET role = 'user' WHERE role = 'staff';
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'admin'));
