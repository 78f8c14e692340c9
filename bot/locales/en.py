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
    "welcome_new": "Welcome, {name}! You are enrolled; two quick questions to set you up. Type /help any time to see what I can do.",
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
    "choose_track": "Which track fits your role? Choose one:",
    "choose_timezone": (
        "Which time zone are you in? Lessons and quizzes arrive at your local time. "
        "(Not listed? Type /settings tz Area/City, e.g. /settings tz Europe/Berlin)"
    ),
    "enrolled_summary": (
        "You're all set: track **{track}**, daily quiz at {time} ({timezone}). "
        "Type /quiz any time for a question now, /progress to see how you're doing."
    ),
    "lesson_header": "📘 **{title}**",
    "lesson_done": "Got it ✅",
    "lesson_quiz": "Quiz me 📝",
    "lesson_noted": "Noted — lesson completed.",
    "quiz_header": "📝 **Quiz**",
    "quiz_multi_hint": "(choose all that apply, then Submit)",
    "quiz_submit": "Submit",
    "true": "True",
    "false": "False",
    "answer_correct": "✅ Correct!",
    "answer_wrong": "❌ Not quite. The answer is: {answer}",
    "answer_source": "📎 Source: {source}",
    "answer_already": "You've already answered this question — it counts once.",
    "answer_not_yours": "That quiz was sent to someone else; your answer wasn't recorded.",
    "quiz_nothing_due": "You're all caught up: nothing is due and your track has no new questions yet. 🎉",
    "quiz_lesson_first": "First, the next lesson of your track:",
    "quiz_reminder": "⏰ Reminder: today's quiz is still waiting for your answer.",
    "progress": (
        "**Your progress**\n"
        "- Track: {track} — lessons {lessons_done}/{lessons_total}\n"
        "- Streak: {streak} day(s)\n"
        "- Answers: {attempts}, accuracy {accuracy}\n"
        "- Reviews due now: {due}"
    ),
    "settings_current": (
        "**Your settings**\n- Language: {lang_name}\n- Time zone: {timezone}\n"
        "- Daily quiz time: {time}\n"
        "Change with the buttons, or type /settings lang en|zh, /settings tz Area/City, "
        "/settings time HH:MM"
    ),
    "settings_saved": "Saved. {what}",
    "settings_invalid": "I couldn't use that: {problem}",
    "settings_language": "Language: English",
    "settings_timezone": "Time zone: {timezone}",
    "settings_time": "Daily quiz time: {time}",
    "language_name_zh": "中文",
    "language_name_en": "English",
}
