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
    "answer_intro": "From the course materials:",
    "sources_heading": "Sources:",
    "not_covered": (
        "The course materials don't cover this yet, so I won't guess. "
        "I've passed your question to the trainers."
    ),
    "feedback_up": "👍 Helpful",
    "feedback_down": "👎 Not helpful",
    "feedback_thanks": "Thanks for the feedback!",
    "ask_usage": "Type your question after /ask, for example: /ask How do we win back churned users?",
    "knowledge_unavailable": (
        "Sorry, I can't search the course materials right now. "
        "An administrator needs to run 'trainbot ingest'."
    ),
    "stale_button": "That button is no longer active.",
    "stopped": "Lessons and quizzes are paused. Questions still work; /start resumes.",
    "console_choose": "Type a number to press a button.",
    "not_enrolled": "You are not enrolled yet. Type /start to begin.",
}
