"""中文消息。键和 ``{占位符}`` 必须与 ``en.py`` 一致。"""

MESSAGES: dict[str, str] = {
    "help": (
        "**trainbot** — 你的培训助手。\n"
        "直接用自己的话问我课程里的问题，或者使用命令：\n"
        "- /start — 报名；暂停后恢复推送\n"
        "- /ask 问题 — 查询课程资料\n"
        "- /quiz — 马上来一道测验题\n"
        "- /progress — 连续学习天数、正确率和待复习题目\n"
        "- /settings — 语言、时区和测验时间\n"
        "- /stop — 暂停课程和测验推送（仍可提问）\n"
        "- /report — 每周学习汇总（管理者）\n"
        "- /help — 显示本帮助"
    ),
    "welcome_new": "欢迎你，{name}！报名已完成，再回答两个小问题就设置好了。随时输入 /help 查看我能做什么。",
    "welcome_back": "欢迎回来，{name}。课程和测验推送已恢复。",
    "unknown_command": "我不认识命令 /{name}。输入 /help 查看命令列表。",
    "not_available": "抱歉，当前版本还不支持 /{name}。",
    "answer_intro": "根据课程资料：",
    "sources_heading": "来源：",
    "not_covered": "课程资料里还没有涉及这个问题，我不做猜测。你的问题已经转给培训老师。",
    "feedback_up": "👍 有帮助",
    "feedback_down": "👎 没帮助",
    "feedback_thanks": "谢谢你的反馈！",
    "ask_usage": "请在 /ask 后面写上问题，例如：/ask 怎样召回流失用户？",
    "knowledge_unavailable": "抱歉，现在无法检索课程资料。需要管理员运行 trainbot ingest。",
    "stale_button": "这个按钮已经失效了。",
    "stopped": "课程和测验推送已暂停。你仍然可以提问；输入 /start 恢复。",
    "console_choose": "输入数字即可点击按钮。",
    "not_enrolled": "你还没有报名。输入 /start 开始。",
    "choose_track": "哪个学习轨道适合你的岗位？请选择：",
    "choose_timezone": "你在哪个时区？课程和测验会在你的当地时间送达。（列表里没有？输入 /settings tz 地区/城市，例如 /settings tz Europe/Berlin）",
    "enrolled_summary": "设置完成：学习轨道 **{track}**，每天 {time}（{timezone}）推送测验。随时输入 /quiz 马上做题，输入 /progress 查看学习进度。",
    "lesson_header": "📘 **{title}**",
    "lesson_done": "学完了 ✅",
    "lesson_quiz": "考考我 📝",
    "lesson_noted": "已记录：本课已完成。",
    "quiz_header": "📝 **小测验**",
    "quiz_multi_hint": "（多选：选好所有正确选项后点“提交”）",
    "quiz_submit": "提交",
    "true": "对",
    "false": "错",
    "answer_correct": "✅ 回答正确！",
    "answer_wrong": "❌ 不太对。正确答案是：{answer}",
    "answer_source": "📎 出处：{source}",
    "answer_already": "这道题你已经答过了，只计一次。",
    "answer_not_yours": "这道题是发给别人的，你的回答没有记录。",
    "quiz_nothing_due": "全部完成：目前没有待复习的题目，你的轨道也暂时没有新题。🎉",
    "quiz_lesson_first": "先学习你轨道里的下一课：",
    "quiz_reminder": "⏰ 提醒：今天的测验还在等你作答。",
    "progress": (
        "**你的学习进度**\n"
        "- 学习轨道：{track}——已学 {lessons_done}/{lessons_total} 课\n"
        "- 连续学习：{streak} 天\n"
        "- 已答题：{attempts} 道，正确率 {accuracy}\n"
        "- 当前待复习：{due} 道"
    ),
    "settings_current": "**你的设置**\n- 语言：{lang_name}\n- 时区：{timezone}\n- 每日测验时间：{time}\n可以点按钮修改，或输入 /settings lang zh|en、/settings tz 地区/城市、/settings time 时:分",
    "settings_saved": "已保存。{what}",
    "settings_invalid": "这个设置用不了：{problem}",
    "settings_language": "语言：中文",
    "settings_timezone": "时区：{timezone}",
    "settings_time": "每日测验时间：{time}",
    "language_name_zh": "中文",
    "language_name_en": "English",
}
