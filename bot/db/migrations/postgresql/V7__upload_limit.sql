-- The largest file Discord let this job's member upload where they asked (the interaction's
-- attachment_size_limit, issue 17): the video is fitted to it (never above the server's own limit).
-- NULL for jobs from before, and from the command line: the server's limit alone then applies.
ALTER TABLE jobs ADD COLUMN upload_limit bigint;
