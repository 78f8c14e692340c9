"""English messages. Keys and ``{placeholders}`` must match ``zh.py``."""

MESSAGES: dict[str, str] = {
    "help": (
        "**trainbot** — your training assistant.\n"
        "Ask me anything about the course in your own words, or use a command:\n"
        "- /start — enrol, or resume pushes after /stop\n"
        "- /ask QUESTION — ask about the course materials\n"
        "- /quiz — get a quiz question now\n"
        "- /progress — your streak, accuracy and what is due\n"
        "- /settings — language, time zone and quiz time\n"
        "- /stop — pause lessons and quizzes (questions still work)\n"
        "- /report — weekly summary (managers)\n"
        "- /help — this message"
    ),
    "welcome_new": "Welcome, {name}! You are enrolled. Type /help to see what I can do.",
    "welcome_back": "Welcome back, {name}. Lessons and quizzes are on again.",
    "unknown_command": "I don't know the command /{name}. Type /help for the list.",
    "not_available": "Sorry, /{name} is not available yet in this version.",
    "ask_not_available": (
        "Sorry, answering questions is not available yet in this version. "
        "Type /help for what I can do."
    ),
    "stale_button": "That button is no longer active.",
    "stopped": "Lessons and quizzes are paused. Questions still work; /start resumes.",
    "console_choose": "Type a number to press a button.",
    "not_enrolled": "You are not enrolled yet. Type /start to begin.",
}
