-- Generated videos screened before they are posted (issue 25 item 3; bot/jobs/review.py). A SUCCEEDED job's
-- screening, once decided: 'passed' (posted plainly), 'spoiler' (posted behind a spoiler), 'hold' (to be
-- handed to the moderators), 'held' (in the mod-log, waiting: no process leases it, it holds no member slot),
-- 'approved' (a moderator let it through: posted plainly), 'removed' (a moderator refused it: expired,
-- charged, never posted). NULL: not screened (yet, or nothing screens it here).
ALTER TABLE jobs ADD COLUMN video_review TEXT CHECK (video_review IN ('passed', 'spoiler', 'hold', 'held',
    'approved', 'removed'));
-- The moderator who approved or removed a held video (their press answers a later one).
ALTER TABLE jobs ADD COLUMN reviewed_by INTEGER;
