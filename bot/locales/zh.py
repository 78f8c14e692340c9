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
    "welcome_new": "欢迎你，{name}！报名已完成。输入 /help 查看我能做什么。",
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
}
