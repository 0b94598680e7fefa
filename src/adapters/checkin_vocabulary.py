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
_CN_D = "[〇零一二三四五六七八九]"
_CN_VAL = f"[三四]十[一二三四五六七八九]?(?:点{_CN_D}{{1,2}}|度{_CN_D}?)"
"""a reading in words, with 度 or 点 (三十七度八, 三十六点五, 三十八度): 体温三十六 stays unread"""
_VAL = rf"(?:\d{{2}}(?:\.\d{{1,2}}|度\d(?!\d))?|{_CN_VAL})"
_UNIT = "(?:℃|°C|°c|°|摄氏度|度)"
_KIN = ("(?:我爱人|我老公|我老婆|我妈|我爸|我|本人|老公|老婆|爱人|丈夫|妻子|媳妇|儿媳|女婿|父亲|"
        "母亲|爸爸|妈妈|老爸|老妈|公公|婆婆|岳父|岳母|爷爷|奶奶|外公|外婆|姥姥|姥爷|老伴|儿子|女儿|孙子|孙女|外孙女?|"
        "孩子|小孩|宝宝|大宝|二宝|老大|老二|哥哥|姐姐|弟弟|妹妹|老人)")
"""who in a household a reading or a symptom is about (老公发烧38度，其他人正常)"""
_OTHERS = ("(?:大人们|大人|我们|其他人|其余人|其他家人|其余家人|其他|其余|其它人|其它|别的人|"
           "家里其他人)")
_PHONE_LABEL = "(?:联系电话|电话号码|手机号码|手机号|联系方式|电话|手机)"
_NOT_NAME = ("(?:今|昨|前天|刚|早|上午|中午|下午|晚|有|无|没|不|未|都|也|均|全|家|大家|"
             "一家|一直|一点|已|还|又|目前|现在|暂|稍|略|轻|偶尔|经常|体|温度|状态|情况|身体|"
             "其|别|大人|小孩|孩子|老人|人员|症状|人数|人口|地址|住址|门牌|访客|来访|亲戚|"
             f"客人|外来|外地|{_PHONE_LABEL})")
"""words a person's name does not start with (今天发热, 有点咳嗽, 全家正常): read as no name.
The named person is the last kind tried, so 高烧39 or 平安 never reach it"""
_NAMED_VAL = rf"(?:\d{{2}}(?:\.\d{{1,2}}|度\d(?!\d))|{_CN_VAL}|\d{{2}}(?={_UNIT}))"
"""a named person's reading has a decimal or a unit (张三37.9, 李四38度): 和平里36 is a door"""
_LABELS = re.compile(f"(?:{_PHONE_LABEL}|体温|温度|人数|人口|家庭人数|地址|住址|门牌号?|访客|"
                     "来访人员|来访|亲戚|外来人员|状态|情况|健康状况|身体状况)(?:是|为)?")
_LABEL_PART = re.compile(f"(?P<phone>{_PHONE_LABEL})|(?P<temperature>体温|温度)"
                         "|(?P<members>人数|人口|家庭人数)|(?P<status>状态|健康状况|身体状况)")
_TOKEN = re.compile(rf"""
 (?P<person>(?P<who>{_KIN})(?:的)?
   (?:(?:体温)?(?:是|为)?(?P<who_t>{_VAL}){_UNIT}?
   |(?:有点|有些|有)?(?P<who_f>{_FEVERS})(?:体温)?(?:(?P<who_ft>{_VAL}){_UNIT}?)?
   |(?:有点|有些|有)?(?P<who_s>{_SYMS})
   |(?:都|也|均)?(?P<who_n>平安|正常|没事|健康|体温正常|无异常|不发烧|没发烧|无发热)))
|(?P<others>{_OTHERS}(?:都|也|均)?(?:平安|正常|没事|健康|体温正常|无异常|都好|不发烧|没发烧|无发热))
|(?P<pair>老两口|老俩口|两口子|夫妻俩|夫妻二人|我们俩|我俩|俩人|母女俩|父子俩|母子俩|父女俩)
|(?P<alone>(?:独居|一人独居|独自居住|一个人住)(?:老人)?)
|(?P<count>(?:(?P<count_h>{_NUM})户)?(?:一家|全家|我家|家中|家里|共计|合计|共有|共|在家|常住)?
    (?:人数|人口|家庭人数)?(?:为|是|有)?(?P<count_n>{_NUM})(?:口人|口之家|口|个人|人|位|名)(?:老人|大人|小孩)?(?:在家|常住)?
  |(?:人数|人口|家庭人数)(?:为|是)?(?P<count_m>{_NUM})(?!\d))
|(?P<households>(?P<hh>{_NUM})户)
|(?P<no_phone>(?:无|没有|暂无)(?:电话|手机)|{_PHONE_LABEL}(?:无|没有|暂无))
|(?P<phone>{_PHONE_LABEL}(?:是|为)?(?P<phone_v>\+?[\d{_MASK}][\d{_MASK}-]*))
|(?P<negated>(?:体温|温度)(?:都|均)?(?:正常|不高)
  |(?:都|均|也)?(?:无|没有|未见|未|不|没)(?P<neg_v>{_ANY_SYM}(?:(?:和|及|或|与)?{_ANY_SYM})*)(?:等)?(?:症状)?)
|(?P<no_visitor>(?:无|没有|暂无)(?:外地|外来|外省|外市)?(?:亲戚|访客|客人|来访人员|人员来访|来访|外来人员)
  |(?:访客|来访|亲戚|外来人员)(?:无|没有))
|(?P<fever>(?:有)?(?:{_FEVERS})(?:体温)?(?:是|为)?(?:(?P<fever_t>{_VAL}){_UNIT}?)?)
|(?P<temp>(?:今天|今日|早上|今早|上午|中午|下午|晚上|刚才|刚刚)?(?:量了|测了|量的|测的)?(?:体温|温度)(?:是|为)?(?P<temp_a>{_VAL}){_UNIT}?|(?P<temp_b>{_VAL}){_UNIT}
  |(?P<temp_c>\d{{2}}(?:\.\d{{1,2}}|度\d(?!\d))|{_CN_VAL}))
|(?P<normal>(?:状态|情况|健康状况|身体状况)?(?:为|是)?(?:全家|家人|全部|大家|家庭成员|身体)?(?:均|都|一切)?
  (?:平安|正常|健康|安好|良好|无异常|无症状|都好|挺好|很好))
|(?P<symptom>(?:有)?(?P<sym>{_SYMS})(?:等)?(?:症状)?(?:[一两三四五六七八九十\d]天了?)?)
|(?P<bare_phone>\+?\d[\d{_MASK}]{{6,}}(?![\d{_MASK}-])|(?:\+?86-?)?1\d\d-[\d{_MASK}]{{4}}-[\d{_MASK}]{{4}}
  |0\d{{2,3}}-\d{{7,8}}|{_M}{{3,}}[\d{_MASK}]*)
|(?P<named>(?!{_NOT_NAME})(?P<name>[\u4e00-\u9fff]{{2,4}}?)(?:的)?
   (?:(?:体温)?(?:是|为)?(?P<name_t>{_NAMED_VAL}){_UNIT}?
   |(?:有点|有些|有)?(?P<name_f>{_FEVERS})(?:体温)?(?:(?P<name_ft>{_VAL}){_UNIT}?)?
   |(?:有点|有些|有)?(?P<name_s>{_SYMS})
   |(?:都|也|均)?(?P<name_n>平安|正常|没事|健康|体温正常|无异常|不发烧|没发烧|无发热)))
""", re.X | re.A)  # ASCII digits only: full-width ones were converted, others are not read
_KINDS = ("person", "others", "pair", "alone", "count", "households", "no_phone", "phone",
          "negated", "no_visitor", "fever", "temp", "normal", "symptom", "bare_phone", "named")
_ASK = re.compile("(?:请问)?有?是?从?(?:哪里|哪儿|哪)来的(?:亲戚|客人|访客|人)?"
                  "|(?:亲戚|客人|访客)是?从?(?:哪里|哪儿|哪)来的")
_HAS = re.compile(r"有(?:个|位|一个|一位)?(?:外地|外来|外省|外市)?"
                  r"(?:亲戚|访客|客人|来访人员|外来人员|人来访)(?:来访|来了|来)?(?:从?(?P<o>\D{1,20}?)(?:来的|过来的?|来了|过来了|来访|来))?")
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
_SEP = re.compile(r"(?:[\s,;:!?、。…—~\"'“”‘’「」『』【】()\[\]<>《》\u2600-\u27bf\ufe0f\u200d"
                  r"\U0001f000-\U0001faff]|(?<!\d)\.|\.(?!\d))+")
"""separators: punctuation, spaces, and emoji (平安🙏), which carry nothing a report needs"""
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")
_GLUE = re.compile(r"(?<![\d.])[\d一二两三四五六七八九十]{1,3}\s+"
                   r"(?=[人口户号栋单元室度℃])(?!人数|人口)"
                   rf"|(?<!\d)(?:\+?86[ -])?1\d\d[ -][\d{_MASK}]{{4}}[ -][\d{_MASK}]{{4}}(?!\d)"
                   r"|(?<!\d)0\d{2,3} \d{7,8}(?!\d)", re.A)
_DIGITS = set("0123456789一二两三四五六七八九十百零〇")
