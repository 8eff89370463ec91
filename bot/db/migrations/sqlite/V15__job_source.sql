-- Who asked for a job (issue 27 item 5): 'discord' (a member, through the bot) or 'operator' (the command line's
-- `animate` and `keyframes`, server 0, recorded so `python -m bot ledger` and the budget count what the key spends).
-- The job loop takes only 'discord' jobs: the command line submits and follows its own.
ALTER TABLE jobs ADD COLUMN source TEXT NOT NULL DEFAULT 'discord' CHECK (source IN ('discord', 'operator'));
