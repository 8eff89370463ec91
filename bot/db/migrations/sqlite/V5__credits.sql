-- Credits (issue 12): a job's estimated provider cost by kind, resolution and seconds (bot/pricing.py),
-- in thousandths of the price table's currency, kept exactly as integers. Ledger rows carry the credits of
-- their job (a refund or consumption copies its reservation's), and a limit may cap them like videos and seconds.
ALTER TABLE quota_ledger ADD COLUMN credits INTEGER NOT NULL DEFAULT 0;
ALTER TABLE quota_limits ADD COLUMN credits INTEGER CHECK (credits IS NULL OR credits >= 0);
-- Rows written before credits existed: the cost the request card showed then (the built-in price table:
-- img2video 0.04 + 0.01/s, multiframe 0.075 + 0.05/s, 1080p twice that), so this month's windows and the
-- operator's budget count them. Grants stay 0.
UPDATE quota_ledger SET credits = COALESCE((
    SELECT (CASE WHEN jobs.kind = 'multiframe' THEN 75 + 50 * jobs.duration_seconds
                 ELSE 40 + 10 * jobs.duration_seconds END)
           * (CASE WHEN jobs.resolution = '1080p' THEN 2 ELSE 1 END)
    FROM jobs WHERE jobs.id = quota_ledger.entry), 0)
WHERE kind <> 'grant';
-- The operator's budget sums every server's reservations in a window.
CREATE INDEX quota_ledger_reserved ON quota_ledger (at) WHERE kind = 'reserve';
