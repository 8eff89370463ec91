-- When this claim's submit request left the bot (issue 26). Cleared by every claim (ACCEPTED -> SUBMITTING) and
-- set, fenced, just before the paid call: a SUBMITTING job left behind without it provably sent nothing, and
-- recovery returns it to the queue instead of giving it up as submit_unknown.
ALTER TABLE jobs ADD COLUMN sent_at timestamptz;
-- A job mid-submit across the upgrade may have been sent: it keeps the old rule (submit_unknown).
UPDATE jobs SET sent_at = created_at WHERE state = 'submitting';
