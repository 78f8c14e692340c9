"""English messages. Keys and ``{placeholders}`` must match ``zh.py``."""

MESSAGES: dict[str, str] = {
    # Keeping the course up (bot/reports/upkeep.py): the digest and the report
    "practice_notice": "📉 **A practice rule fired** ({rule}, track {track}): «{lesson}» had a first-try accuracy of {accuracy} on {answers} answers over the last {days} days, below the mark of {mark}.\nUntil {until}, the {people} people below the mark get its questions first in their daily quizzes (same number of quizzes a day). The weekly digest shows how they do on it afterwards.",
    "upkeep_practice_title": "**Practice rules fired** (weak lessons get drill for the people below the mark):",
    "upkeep_practice_line": "{lesson}: fired {day}, first-try accuracy {accuracy} on {answers} answers (mark {mark}); drill for {people} people — their accuracy before {before}, since {after} ({after_n} answers)",
    "upkeep_title": "Keeping the course up",
    "upkeep_new": " (new this week)",
    "upkeep_review_title": "**Due for review: {count}** (reviewed more than {months} months ago, never, or changed since):",
    "upkeep_review_changed": "changed since its review on {day}",
    "upkeep_review_never": "never reviewed",
    "upkeep_review_old": "last reviewed {day}",
    "upkeep_review_more": "… and {count} more (trainbot validate lists them all).",
    "upkeep_review_how": "Once checked: trainbot content reviewed ID",
    # A/B tests (trainbot experiments report; bot/experiments.py)
    "exp_header": "**Experiment {id}: {title}**",
    "exp_running": "Running {start} to {end} (ends in {days} days); figures so far.",
    "exp_ended": "Ran {start} to {end}.",
    "exp_not_started": "Starts on {start}; nobody is assigned yet.",
    "exp_outcome_first_try_accuracy": "Outcome: first-try accuracy on the questions of {lessons}, per {unit}, counted from {after} days after assignment.",
    "exp_outcome_completion": "Outcome: share of {unit}s who completed every related lesson sent to them ({lessons}).",
    "exp_outcome_application": "Outcome: share of {unit}s reported applying a related lesson at work ({lessons}), of those with an answer either way.",
    "exp_unit_person": "person",
    "exp_unit_team": "team",
    "exp_table": "| Variant | Assigned | Measured | Outcome | {confidence}% interval |",
    "exp_control": "{variant} (control)",
    "exp_compare_mean": "{variant} vs {control}: {difference} ({confidence}% interval {low} to {high}), Welch's t-test p = {p}.",
    "exp_compare_proportion": "{variant} vs {control}: {difference} ({confidence}% interval {low} to {high}), Fisher's exact test p = {p}.",
    "exp_holm": "p-values are Holm-adjusted for {count} comparisons with the control.",
    "exp_verdict_conclusive_better": "Verdict: {variant} did better than {control}, and the difference is unlikely to be chance (p = {p} < {alpha}).",
    "exp_verdict_conclusive_worse": "Verdict: {variant} did worse than {control}, and the difference is unlikely to be chance (p = {p} < {alpha}).",
    "exp_verdict_not_yet": "Verdict: not yet conclusive. To tell a difference as large as the one seen so far ({difference}) from chance, about {needed} per variant are needed; there are {have}.",
    "exp_verdict_no_difference": "Verdict: no difference seen between {variant} and {control} so far.",
    "exp_verdict_unclear": "Verdict: not conclusive, although the variants have the {needed} per variant the difference seen ({difference}) would need: the true difference is probably smaller than it looks.",
    "exp_verdict_no_data": "Verdict: no data yet for {variant} or {control}: each needs measured {unit}s (2 or more for a mean).",
    "exp_none": "No experiment is defined: add one to content/experiments.yaml (docs/experiments.md).",
    "exp_unknown": "No experiment {id}; defined: {ids}.",
    "exp_outside": "{id} runs from {start} to {end}: nobody is assigned outside those dates.",
    "exp_assigned": "Assigned: {counts}.",
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
        "- /forget — erase everything I store about you\n"
        "- /whoami — your user id and this chat's id (for admins setting up the roster)\n"
        "- /help — this message"
    ),
    "welcome_new_0": "Welcome, {name}! You are enrolled. Type /help any time to see what I can do.",
    "welcome_new_1": "Welcome, {name}! You are enrolled; one quick question to set you up. Type /help any time to see what I can do.",
    "welcome_new_2": "Welcome, {name}! You are enrolled; two quick questions to set you up. Type /help any time to see what I can do.",
    "welcome_unfinished": "Welcome back, {name}. Your enrolment is not finished yet:",
    "welcome_again": "Welcome back, {name}. You are enrolled; lessons and quizzes come as usual.",
    "welcome_back": "Welcome back, {name}. Lessons and quizzes are on again.",
    "unknown_command": "I don't know the command /{name}. Type /help for the list.",
    "answer_intro": "From the course materials:",
    "answer_only_other_language": "The materials cover this only in Chinese:",
    "sources_heading": "Sources:",
    "followup_read_as": "(Following on from your last question, read as: {question})",
    "not_covered": (
        "The course materials don't cover this yet, so I won't guess. "
        "I've passed your question to the trainers."
    ),
    "feedback_up": "👍 Helpful",
    "feedback_down": "👎 Not helpful",
    "feedback_thanks": "Thanks for the feedback!",
    "ask_usage": "Type your question after /ask, for example: /ask How do we win back churned users?",
    "smalltalk_greeting": "Hi! 👋 I'm your training assistant.",
    "smalltalk_thanks": "You're welcome, glad to help!",
    "smalltalk_ack": "OK 👌",
    "smalltalk_goodbye": "Bye for now, happy learning!",
    "smalltalk_noise": "I didn't quite get that message.",
    "smalltalk_hint": 'Ask me about the course, e.g. "How is training coverage calculated?", or type /help to see what I can do.',
    "choice_no_quiz": "No quiz is waiting for your answer. Type /quiz to get one.",
    "choice_out_of_range": "That question has no such option: reply with one of {choices}, or press a button.",
    "knowledge_unavailable": (
        "Sorry, I can't search the course materials right now: the course index hasn't been "
        "built yet (an administrator runs 'trainbot ingest'). This is temporary; lessons, "
        "quizzes and /progress work as usual."
    ),
    "knowledge_rebuilding": (
        "Sorry, questions about the course materials are temporarily unavailable while the "
        "course index is being rebuilt. Please ask again a little later; lessons, quizzes "
        "and /progress work as usual."
    ),
    "stale_button": "That button is no longer active.",
    "stopped": "Lessons and quizzes are paused. Questions still work; /start resumes.",
    # /forget: erasing what the bot stores about the person (docs/privacy.md)
    "forget_confirm": (
        "**Erase my data**\n"
        "This permanently erases what I store about you:\n"
        "- your profile: name, language, time zone, track, team and manager\n"
        "- lessons and quizzes sent to you ({deliveries}), your quiz answers ({attempts}) "
        "and your review schedule ({reviews} questions)\n"
        "- the questions you asked ({questions}) and my answers: their text is deleted, "
        "only an anonymous count stays in the trainers' statistics"
    ),
    "forget_confirm_surveys": "- your ratings of lessons ({surveys}) and the comments you added",
    "forget_confirm_application": "- answers about applying lessons at work ({answers}): your check-ins, what observers said about you and what you said as an observer, with the examples",
    "forget_confirm_manager": "- your place as manager of {teams} team(s): the weekly summary stops",
    "forget_confirm_final": (
        "This cannot be undone. If you write to me again, you start afresh as a new person."
    ),
    "forget_yes": "Yes, erase",
    "forget_cancel": "Cancel",
    "forget_done": (
        "Done: everything I stored about you has been erased. "
        "Type /start if you ever want to begin again."
    ),
    "forget_already": "There is nothing stored about you any more: it was already erased.",
    "forget_cancelled": "Cancelled: nothing was erased.",
    "forget_nothing": "I don't store anything about you, so there is nothing to erase.",
    "console_choose": "Type a number to press a button.",
    "console_push_for": "📨 For {who}:",
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
    # Satisfaction in the weekly report (docs/reports.md#satisfaction-level-1)
    "satisfaction_title": "Satisfaction (level 1)",
    "satisfaction_definition": "Lesson and track ratings from the one-tap survey after a lesson, 1 (not useful) to 5 (very useful), given this week; the change is this week's mean minus last week's.",
    "satisfaction_mean": "Mean rating",
    "satisfaction_count": "Ratings",
    "satisfaction_last_week": "Last week (ratings)",
    "satisfaction_change": "Change",
    "satisfaction_team": "Team: {name}",
    "satisfaction_track": "Track: {name}",
    "satisfaction_total": "All",
    "satisfaction_chat": "Satisfaction: {mean} / 5 ({count} ratings) {change}",
    # Satisfaction survey after a lesson (docs/learning.md#satisfaction-survey)
    "survey_ask_lesson": "How useful was “{lesson}”? Tap 1 (not at all) to 5 (very).",
    "survey_ask_track": "You finished the track “{track}” 🎉 How useful was it overall? Tap 1 (not at all) to 5 (very).",
    "survey_rated": "Thanks — you rated it {stars}. Reply to this message with a comment if you like.",
    "survey_rated_already": "Your rating was already recorded ({stars}); it counts once.",
    "survey_not_yours": "That survey was sent to someone else; your rating wasn't recorded.",
    "survey_comment_saved": "Thanks, your comment is saved with your rating.",
    "themes_model_written": "🤖 Model-written summary of {count} texts: {summary}",
    # Application check-ins and observation checklists (docs/evaluation.md#level-2)
    "checkin_ask": "{days} days ago you completed “{lesson}”. Have you applied it at work?",
    "checkin_several": "Several times",
    "checkin_once": "Once",
    "checkin_not_yet": "Not yet",
    "checkin_not_relevant": "Not relevant to my work",
    "checkin_recorded": "“{lesson}”: recorded — {answer}. Thanks! Reply to this message with an example of how you used it, if you like.",
    "checkin_recorded_not_applied": "“{lesson}”: recorded — {answer}. Thanks! If something stood in the way, reply to this message and say what, if you like.",
    "checkin_recorded_already": "Your answer was already recorded ({answer}); it counts once.",
    "application_not_yours": "That question was sent to someone else; your answer wasn't recorded.",
    "application_example_saved": "Thanks, your example is saved with your answer.",
    "observation_ask": "👀 Observation checklist for {name}: have you seen them apply these lessons at work? One tap per lesson.",
    "observation_seen": "✅ seen",
    "observation_not_seen": "❌ not seen",
    "observation_unsure": "❔ can't tell",
    "observation_done": "All answered — thank you. Reply to this message with an example if you like (it goes with your last answer).",
    "observation_recorded_already": "Already recorded for “{lesson}” ({answer}); it counts once.",
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
        "- Daily quiz time: {time}\n- Track: {track}\n"
        "Change with the buttons, or type /settings lang en|zh, /settings tz City or Area/City, "
        "/settings time HH:MM"
    ),
    "settings_saved": "Saved. {what}",
    "settings_invalid": "I couldn't use that: {problem}",
    "settings_language": "Language: English",
    "settings_timezone": "Time zone: {timezone}",
    "settings_time": "Daily quiz time: {time}",
    "settings_time_quiet": "Daily quiz time: {time}. That is inside quiet hours ({quiet}), so your quiz will come at {moved}, the first allowed time.",
    "settings_timezone_choose": "More than one time zone is called {name}: {zones}. Type /settings tz with the one you mean.",
    "settings_timezone_unknown": "I don't know a time zone called {name}. Type a city (/settings tz Vancouver) or Area/City (/settings tz Europe/Berlin).",
    "settings_track_current": "Track: {track}",
    "settings_track_hint": "Tracks you can move to: {tracks} (type /settings track ID)",
    "settings_track_refused": "You can't move yourself to the track {track}. Tracks you can move to: {tracks}. Ask your manager for any other.",
    "settings_track_none": "none",
    "language_name_zh": "中文",
    "language_name_en": "English",
    # Personal answers to commands typed in a group go to the private chat (bot/audience.py)
    "group_dm_sent": "📬 Sent you a DM — personal answers don't go to the group.",
    "group_no_dm": (
        "I can't message you privately yet: open a private chat with me and say hello, "
        "then try again. Personal answers don't go to the group."
    ),
    "group_no_dm_telegram": (
        "I can't message you privately yet: open {link} ({bot}) and press Start, then try "
        "again. Personal answers don't go to the group."
    ),
    "group_no_dm_slack": (
        "I can't message you privately yet: open {bot} under Apps in the sidebar, go to its "
        "Messages tab and say hello, then try again. Personal answers don't go to the group."
    ),
    # Slack front door
    "slack_answered_in_dm": "I've answered you in our direct messages.",
    # Weekly report (/report, trainbot report, the Monday summaries)
    "report_title": "Weekly training summary — {week}",
    "report_scope": "{scope} · {start} to {end} ({timezone})",
    "report_organisation": "Whole organisation",
    "report_key_numbers": "Key numbers",
    "report_metric": "Metric",
    "report_this_week": "This week",
    "report_last_week": "Last week",
    "report_change": "Change",
    "report_team": "Team",
    "report_track": "Track",
    "report_person": "Person",
    "report_teams": "Teams",
    "report_tracks": "Tracks",
    "report_people": "People",
    "report_enrolled": "Enrolled",
    "report_active": "Active",
    "report_coverage": "Training coverage (all lessons read)",
    "report_active_rate": "Active rate",
    "report_lessons": "Lessons done/sent",
    "report_lesson_completion": "Lesson completion",
    "report_quizzes": "Quizzes answered/sent",
    "report_completion": "Quiz completion",
    "report_accuracy": "Accuracy",
    "report_pass_rate": "Pass rate",
    "report_streak": "Streak (days)",
    "report_last_answer": "Last answer",
    "report_helpfulness": "Helpful answers 👍",
    "report_hardest": "Hardest questions (first-try accuracy)",
    "report_hard_item": "{prompt} — {accuracy} of {tries} first tries",
    "report_follow_up": "People to follow up",
    "report_last_answered": " (last answer {day})",
    "report_never_answered": " (never answered)",
    "report_reason_inactive": "no answer for 7+ days",
    "report_reason_low_accuracy": "accuracy {accuracy}, below the pass mark of {mark}",
    "report_follow_up_unnamed": "Their names went to their own managers, not to this channel.",
    "report_more": "…and {count} more",
    "report_questions": "Questions asked {asked}, not answered {unanswered}; helpful 👍 {helpfulness} {change}",
    "report_gaps": "Questions the bot could not answer",
    "report_gap_item": "{question} — asked {count}×, unanswered {unanswered}, 👎 {thumbs_down}",
    "report_gap_variants": "also asked as: {variants}",
    "report_gaps_unavailable": "(the content-gap list is not available in this version)",
    "report_none": "None.",
    "report_chart_title": "Quiz completion and accuracy by team",
    "report_chart_no_data": "n/a",
    "report_chart_pass_mark": "Pass mark {mark}",
    "report_chart_pass_mark_of": "Pass mark {mark} ({tracks})",
    "report_chart_alt": "Chart: quiz completion and accuracy per team, this week and last week",
    "report_generated": "Generated {moment}",
    "report_learner_refusal": "The weekly report is for managers and admins, sorry. Here is your own progress instead:",
    "report_no_team": "You don't manage a team yet, so there is no report to show. An admin can add you as a team's manager in the roster.",
    "report_unknown_team": "There is no team called {team} that you can see.",
    "report_bad_week": "I couldn't read the week {week}: use an ISO week such as 2026-W47.",
    "report_future_week": "{week} has not started yet, so there is nothing to report: ask for this week or an earlier one.",
    "report_in_progress": "{week} (in progress)",
    "report_in_progress_note": "⏳ This week is not over: the figures count up to {moment}.",
    "report_gap_digest": "**Content gaps {week}** — questions the course did not answer well:",
    # Telegram front door: the command menu (setMyCommands) and the apology after a failure
    "telegram_command_start": "Enrol, or resume lessons and quizzes",
    "telegram_command_help": "What I can do",
    "telegram_command_ask": "Ask about the course materials",
    "telegram_command_quiz": "Get a quiz question now",
    "telegram_command_progress": "Your streak, accuracy and what is due",
    "telegram_command_settings": "Language, time zone and quiz time",
    "telegram_command_stop": "Pause lessons and quizzes",
    "telegram_command_report": "Weekly summary (managers)",
    "telegram_command_forget": "Erase everything stored about you",
    "telegram_command_whoami": "Your user id and this chat's id",
    "whoami_user": (
        "Your {platform} user id: {user_id} "
        "(for the roster, or TRAINBOT_ADMINS as {platform}:{user_id})"
    ),
    "whoami_chat": "This chat's id: {chat_id}",
    "whoami_group": "This is the group's id: use {chat_id} wherever a group or channel id is asked for.",
    # Who may use the bot (TRAINBOT_ENROLMENT) and admins' approvals
    "access_refused": (
        "Sorry, this training assistant is only for the people on your organisation's "
        "training list. If you think you should have access, please ask your trainer or "
        "an administrator."
    ),
    "access_requested": (
        "Hello! You are not on the training list yet, so I've asked an administrator to let "
        "you in. Once they approve, send /start to begin."
    ),
    "access_pending": (
        "Your request to use the training assistant is still waiting for an administrator. "
        "Once they approve, send /start to begin."
    ),
    "approve_admins_only": "Only administrators can approve access requests.",
    "approve_none": "No access requests are waiting.",
    "approve_request": "**{name}** ({who}) asked to use the bot on {moment}.",
    "approve_yes": "✅ Approve",
    "approve_no": "❌ Deny",
    "approve_done": "Approved: {name} ({who}) may use the bot now. Let them know to send /start.",
    "deny_done": "Denied: {name} ({who}) gets a polite refusal.",
    "approve_already_approved": "{name} ({who}) was already approved.",
    "approve_already_denied": "{name} ({who}) was already denied; adding them to the roster lets them in.",
    "impact_title": "Business impact (level 3)",
    "impact_caveat": "This is association, not proof: teams were not trained at random, and whatever else changed in the same weeks (a product launch, the season, a new manager) moves these figures too.",
    "impact_definition": "Weeks {first} to {last}. A team counts as trained from the first week its training coverage reached {mark}; its KPI is compared before and after that week (the week itself on neither side), against the teams not yet trained over the same weeks.",
    "impact_none": "No business KPI has been imported for these teams in weeks {first} to {last} (trainbot kpis import).",
    "impact_higher": "higher is better",
    "impact_lower": "lower is better",
    "impact_kpi": "KPI",
    "impact_indicator": "Indicator",
    "impact_trained_in": "{team} (trained {week})",
    "impact_not_yet": "{team} (not yet trained)",
    "impact_did": "Difference in differences: {difference}. Trained teams changed by {trained} ({teams} team(s); {before} team-weeks before training, {after} after); teams not yet trained changed by {control} over the same weeks ({control_teams} team(s), {control_weeks} team-weeks).",
    "impact_too_few_trained": "Too little data for a comparison: {found} trained team(s) have at least {weeks} weeks of values both before and after their training week, and at least {teams} are needed.",
    "impact_too_few_control": "Too little data for a comparison: at most {found} team(s) not yet trained have at least {weeks} weeks of values on each side of a trained team's training week, and at least {teams} are needed.",
    "impact_chat_did": "{metric}: difference in differences {difference} ({teams} trained vs {control_teams} not yet trained team(s))",
    "impact_chat_too_little": "{metric}: too little data for a comparison yet",
    # The weekly report's level 1 / 2 / 3 section
    "levels_title": "Evaluation by level (1 / 2 / 3)",
    "levels_definition": "Per team and track, with the change since last week. Level 1: training coverage and pass rate (as in the tables above) and the mean satisfaction rating with its number of ratings. Level 2: the application rate, as it stood at the end of the week: of the trained people × lessons someone reported on (the learner's check-in, a manager's or peer's observation), the share reported applying it at work; with how many of those trained were reported on. Level 3: each business KPI's latest value and its change from the value before it.",
    "levels_teams": "By team",
    "levels_tracks": "By track",
    "levels_coverage": "Coverage (L1)",
    "levels_pass_rate": "Pass rate (L1)",
    "levels_satisfaction": "Satisfaction (L1)",
    "levels_application": "Application (L2)",
    "levels_kpis": "KPIs (L3)",
    "levels_ratings": "{mean} ({count} ratings) {change}",
    "levels_applied": "{rate} ({reported} reported of {trained} trained) {change}",
    "levels_kpi": "{metric}: {value} ({week}) {change}",
    "levels_comparisons": "Level 3: each KPI against the teams not yet trained",
    "levels_chat": "Application rate (level 2): {rate} ({reported} reported of {trained} trained) {change}",
    "levels_no_kpis": "No business KPI has been imported for these teams (trainbot kpis import).",
    # Content to improve (trainbot evaluate, the trainers' digest, the HTML report)
    "improve_title": "Content to improve",
    "improve_title_week": "Content to improve — {week}",
    "improve_definition": "Weeks {first} to {last}. A lesson is listed when it is weaker than the course on some signal by more than chance explains: its figure is pulled toward the course's the fewer observations it rests on, and a signal with too few observations counts nothing. Content gaps are the questions the bot declined, or whose answer was rated unhelpful, whose nearest passage is in the lesson's material. The score is the sum of what each signal adds (⚠).",
    "improve_item": "{title} ({track}) — score {score}",
    "improve_rating": "mean rating {value} / 5 ({n} rating(s); course {course})",
    "improve_comments": "{negative} of {n} comment(s) negative ({value}; course {course})",
    "improve_accuracy": "first-try accuracy {value} ({n} first-try answer(s); course {course})",
    "improve_application": "application rate {value} ({n} people × lessons reported on; course {course})",
    "improve_gaps": "{n} content-gap question(s) near its material",
    "improve_too_few": "{text} — too few to judge",
    "improve_weak": "⚠ {text}: adds {weight} to the score",
    "improve_complaint": "Recurring complaint ({count}×): “{text}”",
    "improve_gap_examples": "Asked: {questions}",
    "improve_theme": "Themes: {theme}",
    "improve_unattached_title": "Content gaps tied to no lesson",
    "improve_unattached_no_passage": "{count}× no passage of the materials came near: {examples}",
    "improve_unattached_no_lesson": "{count}× nearest passage in {material}, which no lesson is drawn from: {examples}",
    "improve_unattached_ambiguous": "{count}× nearest passage in {material}, which several lessons draw on, none closer to the question: {examples}",
    "improve_none": "No lesson is weaker than the course on any signal in {first} to {last}.",
    "improve_empty": "Nothing to evaluate in {first} to {last}: no ratings, comments, quiz answers, application reports or content gaps yet.",
    "improve_course": "Course: mean rating {rating}, negative comments {comments}, first-try accuracy {accuracy}, application rate {application}.",
    "improve_digest": "**Content to improve {week}** — the {count} weakest lessons ({first} to {last}):",
    "report_region_scope": "{scope}, region {region}",
    "report_direct_reports": "{count} direct report(s)",
    "apology": "Sorry, something went wrong on my side. Please try again in a moment.",
    # trainbot simulate: the printed summary
    "sim_title": "Simulated {learners} learners over {days} days ({start} to {end}), seed {seed}",
    "sim_habits": "Learners: {diligent} diligent (answer nearly every push), {steady} steady, {lapsing} lapsing (skip days, drop off for stretches)",
    "sim_week": "Week",
    "sim_people": "People",
    "sim_active": "Active",
    "sim_answered": "Answered/sent",
    "sim_accuracy": "Accuracy",
    "sim_streak": "Median streak",
    "sim_follow_up": "Follow-up",
    "sim_ratings": "Ratings",
    "sim_mean_rating": "Mean rating",
    "sim_applied": "Applying/reported",
    "sim_application": "Check-ins: {sent} asked, {answered} answered, {applied} applied it (leaving out {not_relevant} 'not relevant'), {examples} with an example; observations: {checklists} checklists, {observed} answers, {seen} of them 'seen applying'",
    "sim_surveys": "Surveys: {asked} asked, {rated} rated (mean {mean}), {comments} comments ({positive} praising, {neutral} mixed, {negative} complaining)",
    "sim_groups": "{week} as the weekly report counts it:",
    "sim_team": "Team",
    "sim_track": "Track",
    "sim_habit": "Habit",
    "sim_habit_diligent": "Diligent",
    "sim_habit_steady": "Steady",
    "sim_habit_lapsing": "Lapsing",
    "sim_accuracy_line": "Accuracy over all {attempts} answers: {accuracy} (blind guessing would score {chance})",
    "sim_pushes": "Pushes: {deliveries} (lessons {lessons}, quizzes {quizzes}, check-ins {checkins}, observation checklists {checklists}); sent twice {duplicates}, in quiet hours {quiet}, in blackouts {blackout}",
    "sim_recall": "Recall at the end: {fsrs} with FSRS, {baseline} with a fixed rotation",
    "sim_experiment": "Experiment {id} (simulated true effect {effect} on the chance to recall): {variant} {treated} vs {control} {baseline} ({measured} measured), p = {p}, per variant needed {needed}: {verdict}",
    "sim_verdict_conclusive_better": "better, conclusive",
    "sim_verdict_conclusive_worse": "worse, conclusive",
    "sim_verdict_not_yet": "not yet conclusive",
    "sim_verdict_no_difference": "no difference seen",
    "sim_verdict_unclear": "not conclusive",
    "sim_verdict_no_data": "no data yet",
    "sim_practice": "Practice rule {rule} fired on {lesson} on {day}: first-try accuracy {accuracy} on {answers} answers; drill for {people} people, whose accuracy on it was {before} before and {after} since ({after_n} answers); their true recall of it at the end {recall}",
    "sim_practice_none": "Practice rules: none fired",
    "sim_kpis": "Business KPI (level 3): {metric} for {teams} teams over {weeks} weeks, written as a KPI import would; simulated +{uplift} points from {week} on",
    "sim_next": "Weekly report of this data: trainbot report --db {db} --week {week}",
}
