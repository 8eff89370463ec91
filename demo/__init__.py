"""`python -m bot demo`: the bot at work without accounts (issue 27).

The real bot process runs against the bundled fake Discord and fake provider (tests/fakes) while a short
scripted session plays (session.py); the channels are then drawn as one self-contained HTML page
(page.py). Beside tests/ and benchmarks/, outside the bot's packages: the bot never imports it, and it
needs the dev extra (the fakes, and the picture screen the cards' pictures wait for).
"""
