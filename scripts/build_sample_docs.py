"""Build the sample course's Word and PDF materials from the text in this file.

Writes ``content/materials/training-norms.docx`` (training management norm) and
``content/materials/evaluation-guide.pdf`` (training evaluation guide). Both are
Chinese documents for the fictional company 青禾生活 (Qinghe Living); the text below
is the single source of truth, so edit it here and rerun the script rather than
editing the generated files.

Run from the repository root::

    pip install python-docx reportlab
    python scripts/build_sample_docs.py [--out content/materials]

Fonts: the PDF uses ReportLab's built-in CID font ``STSong-Light`` (Adobe-GB1,
registered through ``UnicodeCIDFont``). It needs no font download and is not
embedded; PDF readers substitute a Song/Ming typeface and text extraction (e.g.
pypdf) returns proper Unicode. The .docx sets no font, so Word or LibreOffice uses
its own default Chinese font.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

Block = tuple[str, str | list[str]]
"""A document block: ("title" | "h1" | "h2" | "p", text) or ("ul" | "ol", items)."""

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "content" / "materials"
FIXED_DATE = dt.datetime(2026, 3, 2, 9, 0, 0)

TRAINING_NORMS: list[Block] = [
    ("title", "青禾生活用户运营培训管理规范"),
    (
        "p",
        "版本：2026 年 3 月修订。适用范围：青禾生活各城市及海外区域团队中所有从事用户运营、客服和相关管理工作的员工。",
    ),
    ("h1", "总则"),
    (
        "p",
        "本规范说明用户运营培训怎样分层设计、怎样排期、怎样评估和更新。培训的目的不是上完课，而是让员工在真实工作中把用户的获取、激活、留存、增长和流失管理得更好。培训由人力资源部和用户运营中心共同负责，技术部提供培训平台和演练环境的支持。",
    ),
    ("h1", "分层培训体系"),
    (
        "p",
        "不同岗位要解决的问题不同，培训内容也按岗位和职级分开设计，每条轨道有自己的课程、节奏和合格线。",
    ),
    ("h2", "一线岗位轨道"),
    (
        "p",
        "对象为用户运营专员、客服专员和社区团长对接人，级别为入门级（Level 1）。重点是日常操作与基本技能：生命周期各阶段的含义、新用户激活、留存做法、流失预警信号、用户反馈处理和数据隐私基本规则。合格标准：测验正确率不低于 80%。",
    ),
    ("h2", "管理岗位轨道"),
    (
        "p",
        "对象为小组长、城市经理和区域负责人，级别为进阶级（Level 2）。重点是规划与资源调配：如何设计培训、如何按角色安排轨道、如何排培训日历、如何用指标评估效果、如何组织跨部门协作。管理轨道的题目以情景判断为主，难度较高，合格标准定为测验正确率不低于 75%。",
    ),
    ("h1", "学-练-用闭环"),
    ("p", "每门课程都按“学、练、用”三步设计，缺一步都不算完成："),
    (
        "ul",
        [
            "学：理论讲解，以每节约 5 分钟的微课为主，通过聊天助手按日推送；",
            "练：案例分析和模拟演练，例如在演练环境中用模拟数据处理一份流失预警名单，或模拟双十一期间订单量突增时的客服排班；",
            "用：学完两周内在实际工作中应用，并在每周例会上由组长检查应用情况。",
        ],
    ),
    ("h1", "标准培训流程"),
    (
        "p",
        "所有培训项目都走同一套流程：需求分析 → 课程开发 → 培训实施 → 效果评估，每一步都要有可以量化的指标。",
    ),
    ("h2", "需求分析"),
    (
        "p",
        "先弄清楚缺什么再开课。需求分析要把业务变化和员工能力缺口放在一起看。例如某城市用户规模半年内增长 30%，但能独立处理流失预警的专员只有一半，这就是明确的培训需求。分析方法包括技能问卷、工单抽查和经理访谈。",
    ),
    ("h2", "课程开发"),
    (
        "p",
        "每门课程在开发阶段就要写明：学时、考核方式（测验、实操任务或两者结合）和合格标准。课程内容以内部资料为依据，每个知识点都能追溯到具体的资料章节，方便学员在聊天助手中追问时看到出处。",
    ),
    ("h2", "效果评估与合格标准"),
    (
        "p",
        "评估结合笔试、实操和满意度调查三种方式。个人合格线见各轨道说明；团队层面的评估指标（覆盖率、通过率、行为改变、业务影响）见《培训效果评估指南》。培训采用线上与线下结合的方式，线上平台负责推送、测验和记录，线下用于研讨和演练。",
    ),
    ("h1", "培训日历"),
    ("h2", "避开业务高峰"),
    (
        "p",
        "培训不能和业务抢人。每年初由人力资源部会同业务部门排定培训日历，明确禁推窗口，窗口内不推送任何课程和测验。2026—2027 年度的禁推窗口包括：年中大促（2026 年 6 月 16 日至 18 日，大促主要占用一线人手，因此仅对一线轨道生效）、双十一大促（2026 年 11 月 9 日至 12 日）和春节（2027 年 2 月 5 日至 13 日）。临时出现的业务高峰由城市经理提出，经培训负责人确认后加入日历。",
    ),
    ("h2", "推送节奏"),
    (
        "p",
        "一线轨道每周一、周三推送新课，工作日每天推送测验；管理轨道每周二推送新课，周二至周四推送测验。推送时间为员工所在时区的上午 9:30，晚上 21:00 到次日 8:00 为免打扰时段。",
    ),
    ("h1", "区域团队"),
    ("h2", "多语言与时区"),
    (
        "p",
        "除国内城市外，青禾生活在吉隆坡（UTC+8）和温哥华（UTC-8，夏令时为 UTC-7）设有区域团队。所有课程和测验同时提供中文和英文版本，员工可以选择自己的语言；推送按员工本人所在时区计算，而不是按总部时间。",
    ),
    ("h2", "核心统一与案例本地化"),
    (
        "p",
        "各区域学同一套核心内容：生命周期定义、指标口径、隐私规则和合格标准全公司一致。案例则按区域替换，例如吉隆坡团队用斋月前后订单变化的案例讲活跃度监测，温哥华团队用当地华人超市竞争的案例讲流失原因。这样既保证标准一致，又让学员看到和自己相关的例子。",
    ),
    ("h1", "师资与资源"),
    ("h2", "内部专家与外部顾问"),
    (
        "p",
        "讲师队伍采用内部专家与外部顾问相结合的方式。内部专家（如经验丰富的城市运营经理）负责讲青禾生活自己的做法和教训；外部顾问（如增长咨询顾问、隐私合规律师）负责带来行业里的新方法和法规变化。讲师实行认证制度，每年评审一次授课能力和课程开发质量。",
    ),
    ("h2", "演练环境"),
    (
        "p",
        "技术部为培训提供演练环境，里面是模拟的用户和订单数据，学员可以放心练习看板分析、预警名单处理和召回活动设计，不会接触真实用户信息。培训预算优先保障使用频率高、业务必需的课程。",
    ),
    ("h1", "教材复审"),
    (
        "p",
        "为避免知识过时，所有培训教材每半年复审一次，固定在每年 3 月和 9 月。复审由课程负责人组织，检查内容包括：案例是否仍然符合当前业务、指标定义是否有变化、法规和公司制度是否有更新、题库中是否有答对率异常的题目。复审后在资料开头更新修订日期；过时的内容下线，不再推送。两次复审之间如发现明显错误，可随时提出修订。",
    ),
    ("h1", "应急培训模块"),
    (
        "p",
        "当用户规模突然剧烈波动时，常规课程来不及，需要启用应急培训模块。典型场景有两类：一是舆情事件（例如网上流传某批次蔬菜有质量问题）导致咨询和退订激增；二是某条内容意外走红，几天内新注册用户达到平时的五倍。",
    ),
    ("p", "应急模块包括："),
    (
        "ul",
        [
            "危机沟通话术：统一的对外说法、哪些话不能说、什么情况转交上级；",
            "临时扩容流程：如何临时增加客服班次、如何把简单问题分流到自助渠道；",
            "红蓝对抗演练：一组扮演激增的用户和舆论，一组按流程应对，演练后复盘。",
        ],
    ),
    ("h1", "分阶段推进"),
    ("p", "新的培训体系分三个阶段推开，不一次铺满全公司："),
    (
        "ol",
        [
            "第一阶段：打基础。所有一线员工完成一线轨道的微课和测验，统一基本概念。",
            "第二阶段：专项攻坚。针对业务瓶颈开专题工作坊，例如高峰期服务压力、配送时段投诉。",
            "第三阶段：跨部门联合培训。例如技术部和客服部一起参加投诉根因分析培训，减少部门之间的信息断层。",
        ],
    ),
    ("p", "各城市按顺序进入每个阶段，先开始的城市可以和后开始的城市对比，为评估业务影响提供参照。"),
    ("h1", "跨部门协同"),
    (
        "p",
        "培训需要多个部门一起推动：人力资源部和业务部门一起拟定年度培训计划，让课程内容对准业务目标；技术部负责培训平台和演练环境的运维；公司管理层通过资源审批和在例会上强调，给培训足够的优先级。用户运营相关指标和培训完成情况一并纳入每周例会复盘。",
    ),
    (
        "p",
        "对于并购或新组建的团队，另外安排文化融合课程，帮助新同事理解青禾生活对待用户的方式，减少做法上的冲突。",
    ),
]

EVALUATION_GUIDE: list[Block] = [
    ("title", "青禾生活培训效果评估指南"),
    (
        "p",
        "本指南说明怎样判断一项培训是否有效。适用于一线轨道和管理轨道的所有课程，由培训负责人和城市经理共同使用。2026 年 3 月版。",
    ),
    ("h1", "三级指标体系"),
    ("p", "培训效果分三个层级来看，层级越高越接近业务结果，也越难测量："),
    (
        "ul",
        [
            "一级指标：直接产出，即培训覆盖率和考核通过率；",
            "二级指标：行为改变，即员工是否在工作中用上了所学方法；",
            "三级指标：业务影响，即留存率、流失率等业务结果是否因此改善。",
        ],
    ),
    (
        "p",
        "只看一级指标会高估培训效果：人人都上了课、考了试，不代表工作方式变了。三个层级要一起报告。",
    ),
    ("h1", "一级指标：覆盖率与通过率"),
    ("h2", "培训覆盖率的计算"),
    ("p", "培训覆盖率 = 统计周期内完成全部必修课的人数 ÷ 应参训人数 × 100%。"),
    (
        "p",
        "应参训人数指周期开始时该轨道覆盖岗位的在岗人数；周期内休假超过一半时间的人不计入。示例：一线轨道第二季度应参训 240 人，完成全部必修课 228 人，覆盖率 = 228 ÷ 240 × 100% = 95%。",
    ),
    ("h2", "考核通过率的计算"),
    ("p", "考核通过率 = 达到合格线的人数 ÷ 参加考核的人数 × 100%。"),
    (
        "p",
        "个人合格线为测验正确率：一线轨道不低于 80%，管理轨道不低于 75%。示例：参加考核 228 人，其中 201 人达到合格线，通过率 = 201 ÷ 228 × 100% ≈ 88.2%。",
    ),
    (
        "p",
        "注意两个指标的分母不同：覆盖率的分母是应参训人数，通过率的分母是实际参加考核的人数。通过率很高而覆盖率很低，往往说明只有基础好的人来参加了，问题被掩盖了。",
    ),
    ("h1", "二级指标：行为改变"),
    (
        "p",
        "行为改变用策略应用率衡量：在相关的工作场景中，受训员工按所学方法处理的比例。例如“高风险用户在 48 小时内被联系的比例”，培训前为 52%，培训后三个月升至 78%。",
    ),
    (
        "p",
        "行为数据在培训结束后 30 至 90 天内采集，来源包括：系统日志（工单、预警名单处理记录）、组长的日常观察，以及 360 度反馈——请产品、客服、供应链等上下游协作部门评价受训者的变化。",
    ),
    ("h1", "三级指标：业务影响"),
    (
        "p",
        "业务影响看的是留存率、流失率、LTV 等指标的变化，并分析这些变化与培训之间的关联。因为业务结果受季节、促销、竞争等很多因素影响，必须设置对照，不能简单地把培训后的提升都算作培训的功劳。",
    ),
    (
        "p",
        "分阶段推进天然提供了对照组。示例：杭州 4 月完成培训，广州 6 月才开始。4 月至 5 月，杭州的 30 日留存率从 41% 升到 44%，同期广州从 41% 升到 41.5%。两者差距约 2.5 个百分点，可以较有把握地认为培训起了作用；但仍需在报告中说明其他可能的影响因素。",
    ),
    ("h1", "A/B测试培训形式"),
    (
        "p",
        "培训形式本身也可以做实验。做法是把同一批学员随机分成两组，学习同一内容，只改变形式，然后比较测验成绩、策略应用率和人均成本。",
    ),
    (
        "p",
        "示例：2026 年第一季度，一组学员通过聊天助手每天学 5 分钟微课，另一组参加一场 2 小时的线下研讨会。结果显示：事实性知识（如指标定义）微课组记得更牢；复杂概念（如怎样调整预警模型的信号权重）研讨会组理解得更好。因此后续课程采用组合方式：概念性内容用微课，复杂内容加一次线下研讨。",
    ),
    ("h1", "反馈闭环"),
    ("p", "评估的目的是改进课程。反馈闭环包括三个环节："),
    (
        "ol",
        [
            "收集：每节课后收集评分和评论；聊天助手答不上来的问题自动记录为内容缺口。",
            "分析：用文本分析对评论自动归类，找出集中反映的薄弱环节。",
            "改进：在季度评估中确定改进项，写明负责人和完成时间，下一周期检查效果。",
        ],
    ),
    (
        "p",
        "示例：季度评估发现“用户分层”这门课的实操成绩没达到阈值，下一周期就增加演练环境中的沙盘练习比重。",
    ),
    ("h1", "阈值与处置"),
    (
        "ul",
        [
            "培训覆盖率：目标不低于 95%；低于 90% 时，由城市经理说明原因并补课。",
            "考核通过率：目标不低于 85%；低于 70% 时，检查课程内容和题目是否有问题。",
            "策略应用率：目标不低于 70%。",
            "课程实操得分：不低于 70 分；低于 70 分的课程下一周期增加演练。",
            "学员满意度：不低于 4.0 分（满分 5 分）。",
            "单题答对率：低于 40% 的题目要复查是否有歧义，必要时重写。",
        ],
    ),
    ("h1", "报告节奏"),
    (
        "p",
        "一级指标每周统计，周一上午通过聊天助手发给经理，供周会使用；二级指标每月统计；三级指标每季度统计一次，并与每半年一次的教材复审结合，决定哪些课程要修订。",
    ),
]


def build_docx(blocks: list[Block], path: Path) -> None:
    """Write blocks to a .docx using Word's built-in Title/Heading/List styles."""
    import docx

    document = docx.Document()
    props = document.core_properties
    props.author = "Qinghe Living Training Team"
    props.created = FIXED_DATE
    props.modified = FIXED_DATE
    for kind, content in blocks:
        if kind == "title":
            document.add_heading(str(content), level=0)
            props.title = str(content)
        elif kind == "h1":
            document.add_heading(str(content), level=1)
        elif kind == "h2":
            document.add_heading(str(content), level=2)
        elif kind == "p":
            document.add_paragraph(str(content))
        elif kind in ("ul", "ol"):
            style = "List Bullet" if kind == "ul" else "List Number"
            for item in content:
                document.add_paragraph(item, style=style)
        else:
            raise ValueError(f"unknown block kind: {kind}")
    document.save(str(path))


def build_pdf(blocks: list[Block], path: Path) -> None:
    """Write blocks to a PDF with ReportLab and the built-in STSong-Light CID font."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer

    font = "STSong-Light"
    pdfmetrics.registerFont(UnicodeCIDFont(font))
    base = {"fontName": font, "wordWrap": "CJK"}
    styles = {
        "title": ParagraphStyle("title", fontSize=18, leading=26, spaceAfter=10, **base),
        "h1": ParagraphStyle("h1", fontSize=14, leading=21, spaceBefore=10, spaceAfter=4, **base),
        "h2": ParagraphStyle("h2", fontSize=12, leading=18, spaceBefore=6, spaceAfter=3, **base),
        "p": ParagraphStyle("p", fontSize=10.5, leading=17, spaceAfter=4, **base),
    }

    class OutlinedDoc(SimpleDocTemplate):
        """Adds a PDF bookmark for every heading, so readers show the structure."""

        def afterFlowable(self, flowable: object) -> None:
            level = getattr(flowable, "outline_level", None)
            if level is None:
                return
            text = flowable.getPlainText()  # type: ignore[attr-defined]
            key = f"h{id(flowable)}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(text, key, level=level, closed=False)

    story: list[object] = []
    title = ""
    for kind, content in blocks:
        if kind in ("title", "h1", "h2", "p"):
            para = Paragraph(escape(str(content)), styles[kind])
            if kind != "p":
                para.outline_level = {"title": 0, "h1": 1, "h2": 2}[kind]
            if kind == "title":
                title = str(content)
            story.append(para)
        elif kind in ("ul", "ol"):
            items = [ListItem(Paragraph(escape(item), styles["p"])) for item in content]
            story.append(
                ListFlowable(
                    items,
                    bulletType="bullet" if kind == "ul" else "1",
                    bulletFontName=font,
                    start="•" if kind == "ul" else None,
                    leftIndent=14,
                )
            )
            story.append(Spacer(1, 3))
        else:
            raise ValueError(f"unknown block kind: {kind}")

    doc = OutlinedDoc(
        str(path),
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        author="Qinghe Living Training Team",
        lang="zh-CN",
        invariant=1,
    )
    doc.build(story)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    docx_path = args.out / "training-norms.docx"
    pdf_path = args.out / "evaluation-guide.pdf"
    build_docx(TRAINING_NORMS, docx_path)
    build_pdf(EVALUATION_GUIDE, pdf_path)
    print(f"wrote {docx_path}")
    print(f"wrote {pdf_path}")


if __name__ == "__main__":
    main()
