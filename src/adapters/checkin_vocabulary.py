"""The words and patterns chat check-ins are read with (see ``adapters.checkin``)."""

from __future__ import annotations

import re

_MASK = "×xX*✕✖╳•●"
_M = f"[{_MASK}]"
_NUM = r"(?<![\d.])(?:\d{1,3}|[一二两三四五六七八九十]{1,3})"
_FEVERS = "发热|发烧|低烧|高烧|低热|高热"
_SYMPTOMS = {"咳嗽": "咳嗽", "干咳": "咳嗽", "乏力": "乏力", "腹泻": "腹泻", "呼吸困难": "呼吸困难",
             "气促": "气促", "气短": "气促", "胸闷": "胸闷", "咽痛": "咽痛", "嗓子疼": "咽痛",
             "喉咙痛": "咽痛", "头痛": "头痛", "流鼻涕": "流涕", "流涕": "流涕", "鼻塞": "鼻塞",
             "肌肉酸痛": "肌肉酸痛", "味觉丧失": "味觉丧失", "嗅觉丧失": "嗅觉丧失"}
_SYMS = "|".join(sorted(_SYMPTOMS, key=len, reverse=True))
_ANY_SYM = f"(?:{_FEVERS}|{_SYMS})"
_VAL = r"\d{2}(?:\.\d{1,2}|度\d(?!\d))?"
_UNIT = "(?:℃|°C|°c|°|摄氏度|度)"
_PHONE_LABEL = "(?:联系电话|电话号码|手机号码|手机号|联系方式|电话|手机)"
_LABELS = re.compile(f"(?:{_PHONE_LABEL}|体温|温度|人数|人口|家庭人数|地址|住址|门牌号?|访客|"
                     "来访人员|来访|亲戚|外来人员|状态|情况|健康状况|身体状况)(?:是|为)?")
_LABEL_PART = re.compile(f"(?P<phone>{_PHONE_LABEL})|(?P<temperature>体温|温度)"
                         "|(?P<members>人数|人口|家庭人数)|(?P<status>状态|健康状况|身体状况)")
_TOKEN = re.compile(rf"""
 (?P<count>(?:(?P<count_h>{_NUM})户)?(?:一家|全家|家中|家里|共计|合计|共有|共|在家|常住)?
    (?:人数|人口|家庭人数)?(?:为|是|有)?(?P<count_n>{_NUM})(?:口人|口之家|口|人|位|名)(?:在家|常住)?
  |(?:人数|人口|家庭人数)(?:为|是)?(?P<count_m>{_NUM})(?!\d))
|(?P<households>(?P<hh>{_NUM})户)
|(?P<no_phone>(?:无|没有|暂无)(?:电话|手机)|{_PHONE_LABEL}(?:无|没有|暂无))
|(?P<phone>{_PHONE_LABEL}(?:是|为)?(?P<phone_v>\+?[\d{_MASK}][\d{_MASK}-]*))
|(?P<negated>(?:体温|温度)(?:正常|不高)
  |(?:无|没有|未见|未|不)(?P<neg_v>{_ANY_SYM}(?:(?:和|及|或|与)?{_ANY_SYM})*)(?:等)?(?:症状)?)
|(?P<no_visitor>(?:无|没有|暂无)(?:外地|外来|外省|外市)?(?:亲戚|访客|客人|来访人员|人员来访|来访|外来人员)
  |(?:访客|来访|亲戚|外来人员)(?:无|没有))
|(?P<fever>(?:有)?(?:{_FEVERS})(?:体温)?(?:是|为)?(?:(?P<fever_t>{_VAL}){_UNIT}?)?)
|(?P<temp>(?:体温|温度)(?:是|为)?(?P<temp_a>{_VAL}){_UNIT}?|(?P<temp_b>{_VAL}){_UNIT}
  |(?P<temp_c>\d{{2}}(?:\.\d{{1,2}}|度\d(?!\d))))
|(?P<normal>(?:状态|情况|健康状况|身体状况)?(?:为|是)?(?:全家|家人|全部|大家|家庭成员|身体)?(?:均|都|一切)?
  (?:平安|正常|健康|安好|良好|无异常|无症状|都好|挺好|很好))
|(?P<symptom>(?:有)?(?P<sym>{_SYMS})(?:等)?(?:症状)?)
|(?P<bare_phone>\+?\d[\d{_MASK}]{{6,}}(?![\d{_MASK}-])|(?:\+?86-?)?1\d\d-[\d{_MASK}]{{4}}-[\d{_MASK}]{{4}}
  |0\d{{2,3}}-\d{{7,8}}|{_M}{{3,}}[\d{_MASK}]*)
""", re.X | re.A)  # ASCII digits only: full-width ones were converted, others are not read
_KINDS = ("count", "households", "no_phone", "phone", "negated", "no_visitor", "fever", "temp",
          "normal", "symptom", "bare_phone")
_ASK = re.compile("(?:请问)?有?是?从?(?:哪里|哪儿|哪)来的(?:亲戚|客人|访客|人)?"
                  "|(?:亲戚|客人|访客)是?从?(?:哪里|哪儿|哪)来的")
_HAS = re.compile(r"有(?:外地|外来|外省|外市)?(?:亲戚|访客|客人|来访人员|外来人员|人来访)"
                  r"(?:来访|来了|来)?(?:从?(?P<o>\D{1,20}?)来的)?")
_CAME = re.compile(r"从(?P<o>\D{1,20}?)来的?(?:亲戚|客人|访客|人)?"
                   r"|(?P<p>\D{1,20}?)来的(?:亲戚|客人|访客|人)?")
_VISIT_LABEL = re.compile("(?:访客|来访人员|来访|外来人员|外地亲戚|亲戚|客人)(?:是|为)?")
_WHO_FROM = re.compile(r"(?P<w>\D{1,10}?)从(?P<o>\D{1,20}?)来的?")
_NAME = re.compile(r"[^\W\d_]{1,20}")  # a name or a place: letters (汉字 included) only
_ADDRESS_CHARS = re.compile(r"\w[\w\s#/·-]*")
_ADDR_LABEL = re.compile("(?:地址|住址|门牌号?)(?:是|为)?")
_MARKERS = "号|號|栋|棟|幢|单元|單元|室|楼|层|组|排|户"
_HOUSE_NO = re.compile(rf"\d|[零〇一二两三四五六七八九十百]+(?:{_MARKERS})", re.A)
_ADDR_END = re.compile(rf"(?:\d[A-Za-z]?|{_MARKERS}|院|房|座|门|弄|巷|屋|舍)$", re.A)
_SEP = re.compile(r"(?:[\s,;:!?、。…—~\"'“”‘’「」『』【】()\[\]<>《》]|(?<!\d)\.|\.(?!\d))+")
_GLUE = re.compile(r"(?<![\d.])[\d一二两三四五六七八九十]{1,3}\s+"
                   r"(?=[人口户号栋单元室度℃])(?!人数|人口)"
                   rf"|(?<!\d)(?:\+?86[ -])?1\d\d[ -][\d{_MASK}]{{4}}[ -][\d{_MASK}]{{4}}(?!\d)"
                   r"|(?<!\d)0\d{2,3} \d{7,8}(?!\d)", re.A)
_DIGITS = set("0123456789一二两三四五六七八九十百零〇")
_CN = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
       "八": 8, "九": 9}
_CN_NUMBER = re.compile("(?:(?P<h>[一二两三四五六七八九])百(?P<z>零(?=[一二三四五六七八九]$))?)?"
                        "(?:(?P<t>[一二两三四五六七八九])?(?P<ten>十))?(?P<u>[一二两三四五六七八九])?")
