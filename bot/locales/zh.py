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
        "- /forget — 删除我保存的关于你的全部数据\n"
        "- /whoami — 你的用户 ID 和本会话的 ID（供管理员登记名单）\n"
        "- /help — 显示本帮助"
    ),
    "welcome_new_0": "欢迎你，{name}！报名已完成。随时输入 /help 查看我能做什么。",
    "welcome_new_1": "欢迎你，{name}！报名已完成，再回答一个小问题就设置好了。随时输入 /help 查看我能做什么。",
    "welcome_new_2": "欢迎你，{name}！报名已完成，再回答两个小问题就设置好了。随时输入 /help 查看我能做什么。",
    "welcome_unfinished": "欢迎回来，{name}。报名还没完成：",
    "welcome_again": "欢迎回来，{name}。你已经报名，课程和测验照常推送。",
    "welcome_back": "欢迎回来，{name}。课程和测验推送已恢复。",
    "unknown_command": "我不认识命令 /{name}。输入 /help 查看命令列表。",
    "answer_intro": "根据课程资料：",
    "answer_only_other_language": "资料中只有英文内容：",
    "sources_heading": "来源：",
    "followup_read_as": "（接着上一个问题，理解为：{question}）",
    "not_covered": "课程资料里还没有涉及这个问题，我不做猜测。你的问题已经转给培训老师。",
    "feedback_up": "👍 有帮助",
    "feedback_down": "👎 没帮助",
    "feedback_thanks": "谢谢你的反馈！",
    "ask_usage": "请在 /ask 后面写上问题，例如：/ask 怎样召回流失用户？",
    "smalltalk_greeting": "你好！👋 我是你的培训助手。",
    "smalltalk_thanks": "不客气，很高兴能帮上忙！",
    "smalltalk_ack": "好的 👌",
    "smalltalk_goodbye": "再见，学习顺利！",
    "smalltalk_noise": "我没太看懂这条消息。",
    "smalltalk_hint": "可以直接问我课程里的问题，例如「培训覆盖率怎么计算？」，或输入 /help 查看我能做什么。",
    "choice_no_quiz": "现在没有等你作答的测验题。输入 /quiz 来一道题吧。",
    "choice_out_of_range": "这道题没有这个选项：请回复 {choices} 之一，或直接点按钮。",
    "knowledge_unavailable": (
        "抱歉，现在无法检索课程资料：课程资料索引还没有建立（需要管理员运行 trainbot ingest）。"
        "这是暂时的，课程、测验和 /progress 照常可用。"
    ),
    "knowledge_rebuilding": (
        "抱歉，课程资料索引正在重建，资料问答暂时不可用。请稍后再问；课程、测验和 /progress 照常可用。"
    ),
    "stale_button": "这个按钮已经失效了。",
    "stopped": "课程和测验推送已暂停。你仍然可以提问；输入 /start 恢复。",
    # /forget：删除机器人保存的关于此人的数据（docs/privacy.md）
    "forget_confirm": (
        "**删除我的数据**\n"
        "这将永久删除我保存的关于你的以下数据：\n"
        "- 你的资料：姓名、语言、时区、学习路径、团队和经理\n"
        "- 发给你的课程和测验（{deliveries} 条）、你的测验作答（{attempts} 次）和复习计划（{reviews} 道题）\n"
        "- 你提过的问题（{questions} 个）和我的回答：文字全部删除，培训统计中只保留匿名的数量"
    ),
    "forget_confirm_surveys": "- 你对课程的评分（{surveys} 次）和补充的意见",
    "forget_confirm_manager": "- 你作为 {teams} 个团队经理的身份：每周汇总将不再发给你",
    "forget_confirm_final": "此操作无法撤销。如果你之后再给我发消息，将作为新用户重新开始。",
    "forget_yes": "是的，删除",
    "forget_cancel": "取消",
    "forget_done": "已完成：我保存的关于你的所有数据都已删除。如果以后想重新开始，输入 /start。",
    "forget_already": "已经没有关于你的数据了：之前已删除。",
    "forget_cancelled": "已取消，没有删除任何数据。",
    "forget_nothing": "我没有保存任何关于你的数据，所以没有需要删除的内容。",
    "console_choose": "输入数字即可点击按钮。",
    "console_push_for": "📨 发给 {who}：",
    "not_enrolled": "你还没有报名。输入 /start 开始。",
    "choose_track": "哪个学习轨道适合你的岗位？请选择：",
    "choose_timezone": "你在哪个时区？课程和测验会在你的当地时间送达。（列表里没有？输入 /settings tz 地区/城市，例如 /settings tz Europe/Berlin）",
    "enrolled_summary": "设置完成：学习轨道 **{track}**，每天 {time}（{timezone}）推送测验。随时输入 /quiz 马上做题，输入 /progress 查看学习进度。",
    "lesson_header": "📘 **{title}**",
    "lesson_done": "学完了 ✅",
    "lesson_quiz": "考考我 📝",
    # 周报中的满意度（docs/reports.md#satisfaction-level-1）
    "satisfaction_title": "满意度（一级）",
    "satisfaction_definition": "课后一键调查中本周给出的课程和轨道评分，1（没有帮助）到 5（很有帮助）；变化为本周平均分减上周平均分。",
    "satisfaction_mean": "平均分",
    "satisfaction_count": "评分数",
    "satisfaction_last_week": "上周（评分数）",
    "satisfaction_change": "变化",
    "satisfaction_team": "团队 {name}",
    "satisfaction_track": "轨道 {name}",
    "satisfaction_total": "合计",
    "satisfaction_chat": "满意度：{mean} / 5（{count} 个评分）{change}",
    # 课后满意度调查（docs/learning.md#satisfaction-survey）
    "survey_ask_lesson": "“{lesson}”这一课对你有多大帮助？点 1（没有帮助）到 5（很有帮助）。",
    "survey_ask_track": "你已学完“{track}”轨道 🎉 整体来看对你有多大帮助？点 1（没有帮助）到 5（很有帮助）。",
    "survey_rated": "谢谢，你的评分是 {stars}。想补充意见的话，直接回复这条消息即可。",
    "survey_rated_already": "你的评分已经记录过了（{stars}），只计一次。",
    "survey_not_yours": "这份评分调查是发给别人的，你的评分没有记录。",
    "themes_model_written": "🤖 模型根据 {count} 条文字写的摘要：",
    "survey_comment_saved": "谢谢，你的意见已和评分一起保存。",
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
    "settings_current": "**你的设置**\n- 语言：{lang_name}\n- 时区：{timezone}\n- 每日测验时间：{time}\n- 学习轨道：{track}\n可以点按钮修改，或输入 /settings lang zh|en、/settings tz 城市或 地区/城市、/settings time 时:分",
    "settings_saved": "已保存。{what}",
    "settings_invalid": "这个设置用不了：{problem}",
    "settings_language": "语言：中文",
    "settings_timezone": "时区：{timezone}",
    "settings_time": "每日测验时间：{time}",
    "settings_time_quiet": "每日测验时间：{time}。这个时间在免打扰时段（{quiet}）内，测验会在最早允许的时间 {moved} 送达。",
    "settings_timezone_choose": "叫 {name} 的时区不止一个：{zones}。请输入 /settings tz 加上你要的那个。",
    "settings_timezone_unknown": "我不认识叫 {name} 的时区。请输入城市（/settings tz Shanghai）或 地区/城市（/settings tz Europe/Berlin）。",
    "settings_track_current": "学习轨道：{track}",
    "settings_track_hint": "你可以换到的轨道：{tracks}（输入 /settings track 轨道ID）",
    "settings_track_refused": "你不能自行换到轨道 {track}。你可以换到的轨道：{tracks}。其他轨道请找你的经理安排。",
    "settings_track_none": "无",
    "language_name_zh": "中文",
    "language_name_en": "English",
    # Personal answers to commands typed in a group go to the private chat (bot/audience.py)
    "group_dm_sent": "📬 已私信发给你（个人信息不在群里显示）。",
    "group_no_dm": "我还不能私信你：请先打开与我的私聊并发一句话，然后再试一次。个人信息不在群里显示。",
    "group_no_dm_telegram": (
        "我还不能私信你：请打开 {link} （{bot}），点「开始」(Start)，然后再试一次。"
        "个人信息不在群里显示。"
    ),
    "group_no_dm_slack": (
        "我还不能私信你：请在侧边栏「应用」中打开 {bot}，进入「消息」标签页发一句话，"
        "然后再试一次。个人信息不在群里显示。"
    ),
    # Slack front door
    "slack_answered_in_dm": "我已经在私信里回复你了。",
    # Weekly report (/report, trainbot report, the Monday summaries)
    "report_title": "每周培训小结 — {week}",
    "report_scope": "{scope} · {start} 至 {end}（{timezone}）",
    "report_organisation": "全组织",
    "report_key_numbers": "关键指标",
    "report_metric": "指标",
    "report_this_week": "本周",
    "report_last_week": "上周",
    "report_change": "变化",
    "report_team": "团队",
    "report_track": "轨道",
    "report_person": "学员",
    "report_teams": "各团队",
    "report_tracks": "各轨道",
    "report_people": "学员明细",
    "report_enrolled": "已报名",
    "report_active": "活跃",
    "report_coverage": "培训覆盖率（课程全部完成）",
    "report_active_rate": "活跃率",
    "report_lessons": "课程 完成/推送",
    "report_lesson_completion": "课程完成率",
    "report_quizzes": "测验 作答/推送",
    "report_completion": "测验完成率",
    "report_accuracy": "正确率",
    "report_pass_rate": "考核通过率",
    "report_streak": "连续天数",
    "report_last_answer": "最近作答",
    "report_helpfulness": "回答有帮助 👍",
    "report_hardest": "最难的题目（首次作答正确率）",
    "report_hard_item": "{prompt} — 首次作答 {tries} 次，正确率 {accuracy}",
    "report_follow_up": "需要跟进的学员",
    "report_last_answered": "（上次作答 {day}）",
    "report_never_answered": "（从未作答）",
    "report_reason_inactive": "7 天以上未作答",
    "report_reason_low_accuracy": "正确率 {accuracy}，低于合格线 {mark}",
    "report_follow_up_unnamed": "名单已私下发给各自的经理，不在本频道公布。",
    "report_more": "……另有 {count} 人",
    "report_questions": "提问 {asked} 个，未能回答 {unanswered} 个；回答有帮助 👍 {helpfulness} {change}",
    "report_gaps": "机器人未能回答的问题",
    "report_gap_item": "{question} — 被问 {count} 次，未回答 {unanswered} 次，👎 {thumbs_down}",
    "report_gap_variants": "其他问法：{variants}",
    "report_gaps_unavailable": "（此版本尚不提供内容缺口列表）",
    "report_none": "无。",
    "report_chart_title": "各团队测验完成率与正确率",
    "report_chart_no_data": "无数据",
    "report_chart_pass_mark": "合格线 {mark}",
    "report_chart_pass_mark_of": "合格线 {mark}（{tracks}）",
    "report_chart_alt": "图表：各团队本周与上周的测验完成率和正确率",
    "report_generated": "生成于 {moment}",
    "report_learner_refusal": "抱歉，每周报告仅供管理者和管理员查看。以下是你自己的学习进度：",
    "report_no_team": "你目前还没有负责的团队，所以没有可显示的报告。管理员可以在花名册中把你设为团队负责人。",
    "report_unknown_team": "没有你可以查看的名为 {team} 的团队。",
    "report_bad_week": "无法识别周次 {week}：请使用 ISO 周，例如 2026-W47。",
    "report_future_week": "{week} 尚未开始，暂无可报告的内容：请查询本周或更早的周。",
    "report_in_progress": "{week}（进行中）",
    "report_in_progress_note": "⏳ 本周尚未结束：数字统计到 {moment}。",
    "report_gap_digest": "**内容缺口 {week}** — 课程未能很好回答的问题：",
    # Telegram front door: the command menu (setMyCommands) and the apology after a failure
    "telegram_command_start": "报名，或恢复课程和测验推送",
    "telegram_command_help": "我能做什么",
    "telegram_command_ask": "就课程资料提问",
    "telegram_command_quiz": "马上来一道测验题",
    "telegram_command_progress": "连续天数、正确率和待复习内容",
    "telegram_command_settings": "语言、时区和测验时间",
    "telegram_command_stop": "暂停课程和测验推送",
    "telegram_command_report": "每周汇总（经理）",
    "telegram_command_forget": "删除关于你的全部数据",
    "telegram_command_whoami": "你的用户 ID 和本会话的 ID",
    "whoami_user": (
        "你的 {platform} 用户 ID：{user_id}"
        "（用于名单，或在 TRAINBOT_ADMINS 中写作 {platform}:{user_id}）"
    ),
    "whoami_chat": "本会话的 ID：{chat_id}",
    "whoami_group": "这是群组的 ID：需要填写群组或频道 ID 时，请用 {chat_id}。",
    # 谁可以使用（TRAINBOT_ENROLMENT）与管理员审批
    "access_refused": (
        "抱歉，这个培训助手只对贵公司培训名单上的同事开放。"
        "如果你认为自己应该可以使用，请联系培训老师或管理员。"
    ),
    "access_requested": "你好！你还不在培训名单上，我已请管理员为你开通。管理员批准后，发送 /start 即可开始。",
    "access_pending": "你的使用申请仍在等待管理员处理。批准后，发送 /start 即可开始。",
    "approve_admins_only": "只有管理员可以审批使用申请。",
    "approve_none": "目前没有待处理的使用申请。",
    "approve_request": "**{name}**（{who}）于 {moment} 申请使用培训助手。",
    "approve_yes": "✅ 批准",
    "approve_no": "❌ 拒绝",
    "approve_done": "已批准：{name}（{who}）现在可以使用了。请通知对方发送 /start。",
    "deny_done": "已拒绝：{name}（{who}）会收到礼貌的拒绝说明。",
    "approve_already_approved": "{name}（{who}）此前已获批准。",
    "approve_already_denied": "{name}（{who}）此前已被拒绝；把对方加入花名册即可开通。",
    "impact_title": "业务影响（第三层）",
    "impact_caveat": "这只是相关，不是因果证明：各团队并非随机安排培训，同期发生的其他变化（新产品上线、季节、换了经理等）同样会影响这些数字。",
    "impact_definition": "分析周次 {first} 至 {last}。团队从培训覆盖率首次达到 {mark} 的那一周起计为已培训；比较该周之前与之后的业务指标（该周本身不计入任何一边），并与同期尚未培训的团队对照。",
    "impact_none": "{first} 至 {last} 期间尚未为这些团队导入业务指标（trainbot kpis import）。",
    "impact_higher": "越高越好",
    "impact_lower": "越低越好",
    "impact_kpi": "业务指标",
    "impact_indicator": "指标",
    "impact_trained_in": "{team}（{week} 起已培训）",
    "impact_not_yet": "{team}（尚未培训）",
    "impact_did": "双重差分：{difference}。已培训团队变化 {trained}（{teams} 个团队；培训前 {before} 个团队周，培训后 {after} 个）；尚未培训的团队同期变化 {control}（{control_teams} 个团队，{control_weeks} 个团队周）。",
    "impact_too_few_trained": "数据不足，暂不比较：培训周前后各有至少 {weeks} 周数值的已培训团队只有 {found} 个，至少需要 {teams} 个。",
    "impact_too_few_control": "数据不足，暂不比较：在已培训团队的培训周前后各有至少 {weeks} 周数值的尚未培训团队最多只有 {found} 个，至少需要 {teams} 个。",
    "impact_chat_did": "{metric}：双重差分 {difference}（已培训 {teams} 个团队，对照尚未培训 {control_teams} 个团队）",
    "impact_chat_too_little": "{metric}：数据不足，暂不比较",
    "report_direct_reports": "{count} 名直属下属",
    "apology": "抱歉，我这边出了点问题，请稍后再试。",
    # trainbot simulate：打印的汇总
    "sim_title": "模拟 {learners} 名学员，共 {days} 天（{start} 至 {end}），随机种子 {seed}",
    "sim_habits": "学员：勤奋 {diligent} 人（几乎每次推送都作答），稳定 {steady} 人，松懈 {lapsing} 人（会跳过几天，有时连续一段时间不来）",
    "sim_week": "周",
    "sim_people": "人数",
    "sim_active": "活跃",
    "sim_answered": "作答/推送",
    "sim_accuracy": "正确率",
    "sim_streak": "连续天数中位数",
    "sim_follow_up": "需跟进",
    "sim_ratings": "评分数",
    "sim_mean_rating": "平均评分",
    "sim_applied": "应用/有反馈",
    "sim_application": "应用回访：发出 {sent} 次，回答 {answered} 次，已应用 {applied}（不含“与工作无关” {not_relevant} 次），附实例 {examples} 条；观察清单：{checklists} 份，回答 {observed} 项，其中看到应用 {seen} 项",
    "sim_surveys": "满意度调查：发出 {asked} 次，评分 {rated} 次（平均 {mean} 分），留言 {comments} 条（好评 {positive}，中性 {neutral}，差评 {negative}）",
    "sim_groups": "{week}，按周报口径统计：",
    "sim_team": "团队",
    "sim_track": "轨道",
    "sim_habit": "学习习惯",
    "sim_habit_diligent": "勤奋",
    "sim_habit_steady": "稳定",
    "sim_habit_lapsing": "松懈",
    "sim_accuracy_line": "全部 {attempts} 次作答的正确率：{accuracy}（纯靠猜的正确率为 {chance}）",
    "sim_pushes": "推送：{deliveries} 条（课程 {lessons}，测验 {quizzes}）；重复发送 {duplicates}，免打扰时段内 {quiet}，业务高峰或假期停推期内 {blackout}",
    "sim_recall": "模拟结束时的记忆保持率：FSRS 排程 {fsrs}，固定轮换 {baseline}",
    "sim_next": "查看这批数据的周报：trainbot report --db {db} --week {week}",
}
