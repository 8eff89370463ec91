# ruff: noqa: E501  (catalogs: one message a line reads and diffs better than split strings)
"""zh-CN text for the command list, keyed by the English the cogs declare (see translator.py)."""

from __future__ import annotations

# Command, group and option names: lower case, no spaces (Discord's rule for slash-command names).
NAMES: dict[str, str] = {
    # commands and groups
    "animate": "图生视频", "keyframes": "关键帧", "storyboard": "故事板", "jobs": "任务", "help": "帮助",
    "quota": "配额", "me": "我的", "set": "设置", "clear": "清除", "show": "查看", "grant": "追加配额",
    "usage": "用量", "config": "服务器设置", "channel": "频道", "modlog": "管理日志", "limits": "任务限制",
    "timezone": "时区", "weight": "倍率", "mod": "管理", "block": "禁止", "unblock": "解除禁止",
    "blocklist": "屏蔽词", "add": "添加", "remove": "移除", "audit": "操作记录", "safety": "内容安全",
    "Animate": "做成视频",  # the message menu (context menus may use any case)
    "Remove post": "删除帖子", "Report video": "举报视频",
    # options
    "image": "图片", "prompt": "提示词", "duration": "时长", "resolution": "分辨率", "movement": "运动幅度",
    "seed": "种子", "audio": "音效", "bgm": "背景音乐", "off_peak": "错峰", "private": "私密",
    "start": "起始帧", "prompts": "分段提示词", "durations": "分段时长", "watermark": "水印", "voice": "音色",
    **{f"frame{n}": f"关键帧{n}" for n in range(1, 10)},
    "job": "任务编号", "scope": "范围", "period": "周期", "videos": "视频数", "seconds": "秒数", "credits": "预估费用",
    "role": "身份组", "member": "成员", "allowed": "允许", "in_flight": "同时进行数",
    "queue": "排队数", "cooldown_seconds": "冷却秒数", "name": "名称", "reason": "原因", "term": "词语",
    "regex": "正则", "position": "位置", "strikes": "内容警告", "count": "次数", "hours": "小时数",
    "pictures": "图片", "spoiler": "剧透遮挡", "flagged_videos": "被标记的视频",
    "settings": "个人设置", "reset": "重置", "confirm": "确认费用",
}

DESCRIPTIONS: dict[str, str] = {
    # commands and groups
    "Your own defaults in this server": "你在此服务器的个人默认值",
    "Change your defaults here (options you leave out stay as they are)": "更改你在这里的默认值（未填写的选项保持不变）",
    "Your defaults here, and what each request makes of them": "你在这里的默认值，以及各类请求如何使用它们",
    "Forget all your defaults here": "清除你在这里的所有默认值",
    "Video resolution when a request does not say": "请求未指定时使用的视频分辨率",
    "Seconds when a request does not say (1-10; keyframes segments take 2-7)": "请求未指定时的秒数（1-10；关键帧每段可用 2-7）",
    "How much things move when a request does not say": "请求未指定时的画面运动幅度",
    "Answer in a private thread when a request does not say": "请求未指定时在私密子区中回复",
    "Ask before each paid request, showing its cost": "每次付费请求前先显示费用并询问",
    "Turn one image into a video": "把一张图片变成视频",
    "How many content refusals by the video service pause a member here": "被视频服务因内容拒绝多少次后暂停成员",
    "Refusals that pause a member (0: never)": "暂停成员所需的拒绝次数（0：从不）",
    "Within how many hours": "在多少小时内",
    "A video from a start and an end picture, or a start and 2-9 keyframes":
        "用起始帧和结束帧两张图片，或一张起始帧和 2-9 个关键帧，制作一个视频",
    "Upload 2-10 pictures at once, one prompt per segment; preview before it starts":
        "一次上传 2-10 张图片，每段一个提示词；开始前先预览",
    "Your recent videos in this server, or one job in detail": "你在此服务器最近的视频，或某个任务的详情",
    "What the bot does, its commands and limits, and your quota": "机器人的功能、命令、限制和你的配额",
    "Video quotas": "视频配额",
    "What you may still make here, and when it resets": "你在这里还能制作多少，以及何时重置",
    "Moderators: set a limit in videos, seconds and/or credits": "管理员：按视频数、秒数或预估费用设置配额（可填一项或多项）",
    "Moderators: remove a limit": "管理员：移除一个限制",
    "Moderators: the limits of the server, a role or a member": "管理员：查看服务器、身份组或成员的限制",
    "Moderators: a one-off extra allowance for a member": "管理员：为成员一次性追加配额",
    "Moderators: who used what, as a chart": "管理员：谁用了多少（图表）",
    "Moderators: this server's settings": "管理员：此服务器的设置",
    "This server's settings": "此服务器的设置",
    "Allow or stop the bot in a channel (none allowed: all)": "允许或禁止机器人在某频道工作（一个频道都没有设置时，所有频道都允许）",
    "Where moderator changes are reported (empty: nowhere)": "管理员变更的报告频道（留空：不报告）",
    "Jobs in flight and queued per member, cooldown": "每个成员同时进行和排队的任务数、冷却时间",
    "The time zone quota days, weeks and months follow": "配额的日、周、月所依据的时区",
    "How much a second at a resolution counts against quotas": "某分辨率下每秒计入配额的倍率",
    "Moderators: members, prompts, audit": "管理员：成员、提示词、操作记录",
    "Words and patterns refused in prompts": "提示词的屏蔽词（词语或正则表达式）",
    "Stop a member from making videos here": "禁止某成员在这里制作视频",
    "Let a member make videos here again": "允许某成员重新在这里制作视频",
    "Refuse prompts containing a word (or a regular expression)": "添加屏蔽词：拒绝包含某词语（或匹配某正则表达式）的提示词",
    "Stop refusing a word or pattern": "移除一个屏蔽词",
    "The words and patterns refused in prompts": "查看提示词的屏蔽词",
    "The latest moderator changes in this server": "此服务器最近的管理员变更",
    # options
    "The picture to animate (png, jpeg, webp; others are converted)": "要做成视频的图片（PNG、JPEG、WebP；其他格式会被转换）",
    "What should happen in the video": "视频中应该发生什么",
    "Length in seconds (1-10; default 5, or your /settings)": "时长，单位秒（1-10；默认 5，或你的 /个人设置）",
    "Video resolution (default 720p, or your /settings)": "视频分辨率（默认 720p，或你的 /个人设置）",
    "How much things move (default auto, or your /settings)": "画面运动幅度（默认自动，或你的 /个人设置）",
    "Same seed, same inputs: a similar video": "相同种子和输入：得到相似的视频",
    "Generate sound": "生成音效",
    "Add background music": "添加背景音乐",
    "Cheaper, but may take up to 48 hours": "更便宜，但最长可能需要 48 小时",
    "Answer in a private thread (you and the moderators)": "在私密子区中回复（仅你和管理员可见）",
    "Post your pictures and the video behind a spoiler": "把你的图片和视频标记为剧透（遮挡）后发布",
    "The first frame": "起始帧：视频的第一帧",
    **{f"Keyframe {n}: where segment {n} ends": f"关键帧 {n}：第 {n} 段结束的画面" for n in range(1, 10)},
    'One prompt for all segments, or one per segment: "walks in | sits down"':
        "所有片段一个提示词，或每段一个：“走进来 | 坐下”",
    "Keyframe 1: where segment 1 ends (alone: the end picture)": "关键帧 1：第 1 段结束的画面（只填写它时：结束帧）",
    'Seconds per segment (2-7; 1-8 with an end picture alone): one for all, or one each: "4,5"':
        "每段秒数（2-7；只有结束帧时 1-8）：全部一个值，或每段一个：“4,5”或“4，5”",
    "How much things move, with a start and an end picture only (default auto)": "画面运动幅度，仅用于起始帧和结束帧两张图片（默认自动）",
    "Add the provider's watermark": "添加 Vidu 水印（视频服务自己的水印，不是服务器水印）",
    "Voice for generated speech: the provider's voice id": "生成语音所用的音色：视频服务的音色编号",
    "A job id (the code in the status card), e.g. 7K3QZ2MD; moderators: all": "任务编号（状态卡片中的代码），如 7K3QZ2MD；管理员可填 all",
    "Who the limit is for": "限制的对象",
    "The window it counts over": "配额的统计周期：每天、每周或每月",
    "Videos per window (empty: no video limit)": "每个周期的视频数（留空：不限视频数）",
    "Seconds of video per window (empty: no seconds limit)": "每个周期的视频秒数（留空：不限秒数）",
    "Estimated cost in US dollars per window, e.g. 5.00 (empty: no credits limit)":
        "每个周期的预估费用上限（美元），如 5.00（留空：不限费用）",
    "Extra estimated cost in US dollars, e.g. 1.50": "追加的预估费用（美元），如 1.50",
    "For scope role": "范围为身份组时填写",
    "For scope member": "范围为成员时填写",
    "e.g. Europe/Paris, Asia/Shanghai, America/New_York": "例如 Europe/Paris、Asia/Shanghai、America/New_York",
    "The server's picture on every keyframes video (no image: none)": "每个关键帧视频上的服务器图片水印（不传图片：取消）",
    "The watermark picture (png, jpeg or webp), kept in the mod-log channel": "水印图片（PNG、JPEG 或 WebP），保存在管理日志频道",
    "Where it goes on the video (default bottom_left)": "水印在视频中的位置（默认左下）",
    "Where members' pictures are screened before anything is shown": "在展示任何内容之前，在哪里检查成员的图片",
    "outside_age_restricted (default): every channel that is not age-restricted; everywhere; off":
        "未设年龄限制的频道（默认）、所有频道，或不检查",
    "How much things move, with a start and an end picture only (default auto, or your /settings)":
        "画面运动幅度，仅用于起始帧和结束帧两张图片（默认自动，或你的 /个人设置）",
    "Where members' pictures and generated videos are screened": "在哪些频道检查成员的图片和生成的视频",
    "Finished videos before they are posted: the same three choices": "生成的视频在发布前：选项与图片相同",
    "A flagged video: hold for a moderator (default) or post it behind a spoiler": "被标记的视频：等待管理员审核（默认），或以剧透遮罩发布",
}

CHOICES: dict[str, str] = {
    "auto": "自动", "small": "小", "medium": "中", "high": "大",
    "day": "每天", "week": "每周", "month": "每月",
    "default": "默认（每个成员）", "server": "全服共享配额", "role": "身份组", "member": "成员",
    "bottom_left": "左下", "bottom_right": "右下", "top_left": "左上", "top_right": "右上",
    "outside_age_restricted": "未设年龄限制的频道", "everywhere": "所有频道", "off": "不检查",
    "hold": "等待管理员审核", "spoiler": "以剧透遮罩发布",
}
