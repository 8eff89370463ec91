-- Leases: with several bot processes on one database, a job being submitted, polled or delivered is held
-- by one process (`lease_owner`) until `lease_until` (integer milliseconds, UTC); the holder renews it while
-- it works. A process that dies or stalls lets its leases run out, and another process takes the job.
-- Every lease bumps `attempt`, the fencing number the holder's writes must still match.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until INTEGER;
CREATE INDEX jobs_leases ON jobs (state, lease_until) WHERE state IN ('submitting', 'succeeded');
