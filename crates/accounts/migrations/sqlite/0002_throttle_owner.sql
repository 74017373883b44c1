-- The user a throttle count belongs to, where it belongs to one: the change throttle counts
-- per user and credential (SPEC §4), so removing a user or setting its password clears every
-- count of it by this column rather than by guessing keys.
ALTER TABLE throttle ADD COLUMN user_id INTEGER;
CREATE INDEX throttle_user_id ON throttle (user_id);
