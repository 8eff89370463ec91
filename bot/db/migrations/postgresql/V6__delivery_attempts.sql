-- Deliveries end (issue 12): when the video was made, and how many times posting it has failed, so a
-- delivery that keeps failing stops after a deadline and an attempt cap (counted across restarts and
-- processes) instead of downloading and posting forever.
ALTER TABLE jobs ADD COLUMN succeeded_at timestamptz;
ALTER TABLE jobs ADD COLUMN delivery_attempts integer NOT NULL DEFAULT 0;
