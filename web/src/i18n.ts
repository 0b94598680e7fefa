// Labels people see: Chinese by default, English on the switch. The API's own labels are
// bilingual ("平安 normal"); `pick` keeps the half of the chosen language.

export type Lang = "zh" | "en";

const STRINGS = {
  title: ["态势感知", "Situational awareness"],
  switchTo: ["English", "中文"],
  switchLabel: ["切换到英文界面", "Switch to Chinese"],
  logout: ["退出", "Log out"],
  loginTitle: ["工作人员登录", "Staff login"],
  tokenLabel: ["访问令牌", "Access token"],
  tokenHelp: [
    "由管理员用 gridcore token issue --staff 工号 签发；只显示您辖区内的数据。",
    "Issued with gridcore token issue --staff NO; you see only your jurisdiction.",
  ],
  login: ["登录", "Log in"],
  loggingIn: ["登录中…", "Logging in…"],
  loading: ["加载中…", "Loading…"],
  badToken: ["令牌无效或已过期，请重新获取。", "The token is invalid or expired; get a new one."],
  noStaff: ["令牌未对应任何工作人员。", "The token names no staff member."],
  notVisible: ["该节点不存在或不在您的辖区内。", "This node does not exist or lies outside your jurisdiction."],
  householdMissing: ["该户不存在或不在您的辖区内。", "This household does not exist or lies outside your jurisdiction."],
  error: ["出错了", "Something went wrong"],
  retry: ["重试", "Retry"],
  signedInAs: ["当前身份", "Signed in as"],
  jurisdiction: ["辖区", "Jurisdiction"],
  myNodes: ["我的辖区网格", "My grids"],
  breadcrumb: ["网格层级", "Grid levels"],
  households: ["户数", "Households"],
  residents: ["居民", "Residents"],
  staff: ["工作人员", "Staff"],
  byHealth: ["健康状况", "Health"],
  byMeasure: ["管控措施", "Measures"],
  byTag: ["标记", "Tags"],
  children: ["下级网格", "Sub-grids"],
  name: ["名称", "Name"],
  level: ["层级", "Level"],
  atRisk: ["异常", "At risk"],
  underMeasure: ["管控中", "Under a measure"],
  drill: ["进入", "Open"],
  noChildren: ["已是最小网格（微网格）。", "This is a micro-grid, the smallest level."],
  coverage: ["排查覆盖率", "Sweep coverage"],
  campaign: ["排查批次", "Campaign"],
  noCampaign: ["此节点暂无排查批次。", "No sweep campaign reaches this node."],
  closed: ["已结束", "closed"],
  open: ["进行中", "open"],
  covered: ["已覆盖", "Covered"],
  uncovered: ["未覆盖", "Uncovered"],
  share: ["覆盖率", "Share"],
  fevers: ["发热", "Fevers"],
  closeContacts: ["密接", "Close contacts"],
  heatLegend: ["颜色越绿覆盖越高", "Greener means more covered"],
  showUncovered: ["查看未覆盖户", "Show uncovered households"],
  uncoveredOf: ["未覆盖户", "Uncovered households"],
  reason: ["原因", "Reason"],
  attempts: ["尝试次数", "Attempts"],
  microGrid: ["微网格", "Micro-grid"],
  household: ["户", "Household"],
  householdNo: ["户号", "Household no."],
  address: ["门牌", "Address"],
  building: ["楼栋", "Building"],
  asked: ["诉求内容", "What was asked"],
  members: ["人数", "Members"],
  timeline: ["户档案时间线", "Household timeline"],
  openTimeline: ["查看档案", "Open timeline"],
  close: ["关闭", "Close"],
  firstOnly: ["仅显示前", "Showing only the first"],
  noUncovered: ["全部已覆盖。", "Every household is covered."],
  householdList: ["户列表", "Households"],
  filterHealth: ["按健康状况筛选", "Filter by health"],
  filterMeasure: ["按管控措施筛选", "Filter by measure"],
  any: ["全部", "Any"],
  more: ["加载更多", "Load more"],
  total: ["共", "Total"],
  time: ["时间", "Time"],
  event: ["事件", "Event"],
  detail: ["详情", "Detail"],
  resident: ["居民", "Resident"],
  health: ["健康", "Health"],
  measure: ["措施", "Measure"],
  tags: ["标记", "Tags"],
  backToGrid: ["返回网格", "Back to the grid"],
  comingTitle: ["待接入", "Coming"],
  coming: [
    "接口开放后在此显示（GraphQL API 尚未提供）。",
    "Shown here once the GraphQL API offers it.",
  ],
  alerts: ["实时告警", "Live alerts"],
  referrals: ["转运流程", "Referral pipeline"],
  sites: ["隔离点占用", "Quarantine-site occupancy"],
  checkpoints: ["卡口车辆与告警（每小时）", "Checkpoint passes and alerts per hour"],
  enterprises: ["企业复工", "Enterprise resumption"],
  requests: ["诉求看板", "Requests board"],
  none: ["暂无。", "None."],
  tracing: ["流调 密接追踪", "Contact tracing"],
  openTracing: ["流调病例与传播链", "Tracing cases and chains"],
  tracingCases: ["流调病例", "Tracing cases"],
  casesTable: ["病例列表", "List of cases"],
  caseNo: ["病例号", "Case"],
  status: ["状态", "Status"],
  opened: ["开案时间", "Opened"],
  secondaryContacts: ["次密接", "Secondary contacts"],
  following: ["随访中", "Under follow-up"],
  cluster: ["聚集 病例/人", "Cluster cases/people"],
  chainOf: ["传播链", "Chain of"],
  caseMissing: ["该病例不存在或不在您的辖区内。", "This case does not exist or lies outside your jurisdiction."],
  index: ["指示病例", "Index"],
  chainCases: ["链上病例", "Cases of the chain"],
  generation: ["代", "generation"],
  generation0: ["指示病例（第0代）", "Index (generation 0)"],
  generation1: ["密接（第1代）", "Close contacts (generation 1)"],
  generation2: ["次密接（第2代）", "Secondary contacts (generation 2)"],
  chainGraph: ["传播链图", "Chain graph"],
  chainGraphDesc: [
    "从左到右：指示病例、密接、次密接；连线表示暴露于谁。下方列表内容相同。",
    "Left to right: the index, close contacts, secondary contacts; a line joins a person to whom they were exposed. The lists below say the same.",
  ],
  toLocate: ["待落地排查", "to be located"],
  matchProposed: ["待确认匹配", "match to confirm"],
  until: ["至", "until"],
  via: ["经", "via"],
  becameCase: ["已转为病例", "became case"],
  kind: ["类型", "Kind"],
  source: ["来源", "Source"],
  state: ["状态", "State"],
  escalations: ["升级次数", "Escalations"],
  liveOn: ["● 实时推送已连接", "● Live"],
  liveOff: ["○ 实时推送未连接（自动重连）", "○ Not live (reconnecting)"],
  liveConnecting: ["○ 实时推送连接中…", "○ Connecting…"],
  newAlert: ["新告警", "New alert"],
  handle: ["处置", "Handle"],
  acknowledge: ["签收", "Acknowledge"],
  resolve: ["处置", "Resolve"],
  outcome: ["处置结果", "Outcome"],
  falseAlarm: ["误报", "False alarm"],
  breach: ["确认违规", "Breach confirmed"],
  action: ["处置措施（如劝返）", "Action taken (e.g. sent back)"],
  submitResolve: ["提交处置", "Submit"],
  overdue: ["超时", "Overdue"],
  occupancy: ["在住/床位", "Occupied/beds"],
  free: ["空床", "Free"],
  hour: ["时段", "Hour"],
  passes: ["过车", "Passes"],
  alertsShort: ["告警", "Alerts"],
  number: ["编号", "Number"],
  category: ["类别", "Category"],
  grade: ["等级", "Grade"],
  deadline: ["办理时限", "Deadline"],
  skip: ["跳到主要内容", "Skip to the main content"],
  openItems: ["待办", "Open items"],
  open_referrals: ["转运", "referrals"],
  open_deliveries: ["配送", "deliveries"],
  open_requests: ["诉求", "requests"],
  open_alerts: ["告警", "alerts"],
  watch: ["升级与超时", "Escalations and overdue items"],
  escalationFeed: ["升级", "Escalations"],
  overdueFeed: ["超时", "Overdue"],
  sinceOpened: ["自打开页面起", "since this page opened"],
  noneYet: ["暂无。", "None yet."],
  subject_ALERT: ["告警", "Alert"],
  subject_REFERRAL: ["转运", "Referral"],
  subject_REQUEST: ["诉求", "Request"],
  subject_DELIVERY: ["配送", "Delivery"],
  subject_RECTIFICATION: ["整改", "Rectification"],
  chartData: ["查看数据表", "Show the figures"],
  hoursWithTraffic: ["个有车时段", "hours with traffic"],
  noTraffic: ["暂无过车记录。", "No passes recorded."],
  scenarioTime: ["情景时间", "Scenario time"],
  scenarioNote: [
    "本页数据按情景中的时间显示，不是今天。",
    "Figures are shown as of the scenario's time, not today.",
  ],
  table: ["表格", "table"],
  residentsTable: ["居民表", "Residents table"],
  childrenTable: ["下级网格表", "Sub-grids table"],
  coverageTable: ["覆盖率表", "Coverage table"],
  uncoveredTable: ["未覆盖户表", "Uncovered households table"],
  householdsTable: ["住户表", "Households table"],
  requestsTable: ["诉求表", "Requests table"],
  alertsTable: ["告警表", "Alerts table"],
} as const;

export type Key = keyof typeof STRINGS;

export function t(lang: Lang, key: Key): string {
  return STRINGS[key][lang === "zh" ? 0 : 1];
}

/** The half of a bilingual API label ("平安 normal") in the chosen language. */
export function pick(label: string, lang: Lang): string {
  const space = label.indexOf(" ");
  if (space < 0 || !/[\u3400-\u9fff]/.test(label.slice(0, space))) return label;
  return lang === "zh" ? label.slice(0, space) : label.slice(space + 1);
}

const ENUMS: Record<string, [string, string]> = {
  NORMAL: ["平安", "normal"],
  SYMPTOMATIC: ["有症状", "symptomatic"],
  SUSPECTED: ["疑似", "suspected"],
  CONFIRMED: ["确诊", "confirmed"],
  RECOVERED: ["康复", "recovered"],
  DECEASED: ["死亡", "deceased"],
  NONE: ["无", "none"],
  HOME_OBSERVATION: ["居家观察", "home observation"],
  HOME_QUARANTINE: ["居家隔离", "home quarantine"],
  CENTRALIZED_QUARANTINE: ["集中隔离", "centralized quarantine"],
  HOSPITALIZED: ["住院", "hospitalized"],
  CLOSE_CONTACT: ["密接", "close contact"],
  SECONDARY_CONTACT: ["次密接", "secondary contact"],
  RISK_AREA_ARRIVAL: ["风险地区来返", "arrival from a risk area"],
  DOOR: ["上门", "door"],
  PHONE: ["电话", "phone"],
  CHAT: ["微信", "chat"],
};

/** An enum value's label (the API's own label preferred when given). */
export function enumLabel(value: string, lang: Lang, apiLabel?: string): string {
  if (apiLabel) return pick(apiLabel, lang);
  const pair = ENUMS[value];
  return pair ? pair[lang === "zh" ? 0 : 1] : value;
}

/** The line saying whether a live feed is connected. */
export function liveLabel(lang: Lang, state: "connecting" | "live" | "closed"): string {
  return t(lang, state === "live" ? "liveOn" : state === "connecting" ? "liveConnecting"
    : "liveOff");
}

export function formatTime(iso: string, lang: Lang): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  });
}

/** An age or a delay a person reads at a glance: "2天3小时" / "2 d 3 h", "5小时", "40分钟". */
export function formatAge(hours: number, lang: Lang): string {
  const zh = lang === "zh";
  const total = Math.max(0, Math.round(hours * 60));
  if (total < 60) return zh ? `${total}分钟` : `${total} min`;
  const h = Math.round(total / 60);
  const days = Math.floor(h / 24), rest = h % 24;
  if (days === 0) return zh ? `${rest}小时` : `${rest} h`;
  if (rest === 0) return zh ? `${days}天` : `${days} d`;
  return zh ? `${days}天${rest}小时` : `${days} d ${rest} h`;
}

export function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
