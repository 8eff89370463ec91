"""The colours of every picture the bot draws (storyboards, usage charts): Discord's dark theme, so the
pictures sit quietly in the chat."""

BACKGROUND = (32, 34, 37)
CARD = (47, 49, 54)
TEXT = (230, 230, 230)
MUTED = (160, 165, 170)
BLURPLE = (88, 101, 242)
GREEN = (87, 242, 135)
YELLOW = (254, 231, 92)
