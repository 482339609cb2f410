//! Every string sockscope shows (the window, and the event lines `record`
//! prints), in English and Simplified Chinese, in one table. `{}` marks where a value goes, in order; both languages of a key
//! have the same number of them (a test checks).

use std::fmt::Display;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The first choice: Chinese when the system locale is Chinese.
    pub fn from_environment() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|key| std::env::var(key).ok())
            .find(|value| !value.is_empty())
            .map_or(Lang::En, |value| {
                if value.to_ascii_lowercase().starts_with("zh") {
                    Lang::Zh
                } else {
                    Lang::En
                }
            })
    }
}

macro_rules! table {
    ($($key:ident => $en:literal, $zh:literal;)*) => {
        /// A string of the window.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum S { $($key),* }

        impl S {
            pub const ALL: &[S] = &[$(S::$key),*];

            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((S::$key, Lang::En) => $en, (S::$key, Lang::Zh) => $zh,)*
                }
            }
        }
    };
}

table! {
    // Units of time and counts: every number with a unit goes through
    // these, so the Chinese window never shows "s" or "min".
    Seconds => "{} s", "{} 秒";
    SecondsSuffix => " s", " 秒";
    SecondsUnit => "s", "秒";
    Millis => "{} ms", "{} 毫秒";
    MillisSuffix => " ms", " 毫秒";
    MillisUnit => "ms", "毫秒";
    Minutes => "{} min", "{} 分钟";
    TimesOnce => "once", "1 次";
    TimesMany => "{} times", "{} 次";
    // Top bar.
    Connecting => "connecting…", "正在连接…";
    ConnectionLine => "TCP {} → {} · connection #{}", "TCP {} → {} · 连接 #{}";
    PauseReader => "Pause reader", "暂停读取";
    ResumeReader => "Resume reader", "恢复读取";
    PauseReaderKey => "Pause reader (Space)", "暂停读取（空格）";
    ResumeReaderKey => "Resume reader (Space)", "恢复读取（空格）";
    Export => "Export", "导出";
    ExportHover => "S or Ctrl+S: timeline PNG and samples CSV", "S 或 Ctrl+S：导出时间线 PNG 和采样 CSV";
    Projector => "Projector", "投影模式";
    ProjectorHover => "P: large text, light high-contrast theme", "P：大字号、浅色高对比度主题";
    Info => "Info", "说明";
    InfoHover => "I: how Linux sizes and counts socket buffers", "I：Linux 如何设定和统计套接字缓冲区";
    Controls => "Controls", "控制";
    Language => "中文", "English";
    LanguageHover => "Switch the language (the same as --lang)", "切换界面语言（同 --lang）";
    Dismiss => "Dismiss", "关闭";
    // Export.
    Exporting => "Exporting…", "正在导出…";
    ExportFolderError => "Cannot create the export folder {} ({}); choose another folder below.", "无法创建导出文件夹 {}（{}）；请在下方选择其他文件夹。";
    LadderSaved => "the wire's ladder saved to {}", "线路梯形图已保存到 {}";
    TimelineSaved => "timeline saved to {}", "时间线已保存到 {}";
    SamplesSaved => "{} samples saved to {}", "{} 个采样已保存到 {}";
    PacketsSaved => "{} packets saved to {}", "{} 个数据包已保存到 {}";
    PacketsPartial => " (the newest; {} older ones are no longer kept)", "（最新的部分；更早的 {} 个已不再保留）";
    SamplesPartial => " (the full-resolution part; {} older samples are kept only as min/max)", "（全分辨率部分；更早的 {} 个采样只保留最小/最大值）";
    ExportNoThread => "Could not start the export: no thread ({}).", "无法开始导出：没有可用的线程（{}）。";
    ExportOffScreen => "the timeline panel is not on screen; make the window larger", "时间线面板不在屏幕上；请把窗口放大";
    ExportCannotWrite => "cannot write {}: {}", "无法写入 {}：{}";
    BufferAuto => "auto {}", "自动 {}";
    ExportCaptionAttached => "another program's connection, watched read-only: {} at {} → {} at {} · {} Hz · {}", "另一个程序的连接（只读观察）：{}（{}）→ {}（{}）· {} Hz · {}";
    ExportCaption => "SO_SNDBUF {} · SO_RCVBUF {} · writer {} send({}) · reader {} recv({}) · {} Hz · {}", "SO_SNDBUF {} · SO_RCVBUF {} · 写入方 {} send({}) · 读取方 {} recv({}) · {} Hz · {}";
    // The run's failures.
    StartFailed => "Could not start the connection: {}.", "无法建立连接：{}。";
    StartNoThread => "Could not start the connection: no thread ({}).", "无法建立连接：没有可用的线程（{}）。";
    StartThreadEnded => "Could not start the connection: its thread ended.", "无法建立连接：连接线程已结束。";
    ControlFailed => "The change was refused: {}.", "更改被拒绝：{}。";
    RetireFailed => "Could not stop the old connection in the background: {}.", "无法在后台停止旧连接：{}。";
    ExportFolder => "Export folder", "导出文件夹";
    ExportFolderHint => "S: save the timeline (PNG) and samples (CSV) there.", "按 S 将时间线（PNG）和采样（CSV）保存到这里。";
    // Timeline panel.
    FollowLive => "Follow live (L)", "实时跟随（L）";
    FollowCursor => "Follow the cursor (L)", "跟随光标（L）";
    Window => "window", "时间范围";
    All => "all", "全部";
    PausedView => "paused: drag to pan, scroll/pinch to zoom", "已暂停跟随：拖动平移，滚轮/双指缩放";
    Events => "Events", "事件";
    NoEvents => "No stalls yet. Pause the reader (Space) to make one.", "还没有阻塞。按空格暂停读取来制造一次。";
    InfoTitle => "How Linux sizes and counts socket buffers", "Linux 如何设定和统计套接字缓冲区";
    LegendSendQueue => "send queue", "发送队列";
    LegendInFlight => "in flight", "在途";
    LegendRecvQueue => "receive queue", "接收队列";
    LegendBlocked => "send() blocked", "send() 阻塞";
    LegendZeroWindow => "window = 0", "窗口 = 0";
    LegendHover => "send queue = SIOCOUTQ (unsent + not yet ACKed) · in flight = SIOCOUTQ − SIOCOUTQNSD · receive queue = FIONREAD · dashed lines: the effective SO_SNDBUF and SO_RCVBUF", "发送队列 = SIOCOUTQ（未发送 + 已发送未确认）· 在途 = SIOCOUTQ − SIOCOUTQNSD · 接收队列 = FIONREAD · 虚线：实际生效的 SO_SNDBUF 和 SO_RCVBUF";
    AxisBytes => "bytes", "字节";
    AxisReadRate => "read/s", "读取/秒";
    SeriesSendQueue => "send queue (SIOCOUTQ)", "发送队列 (SIOCOUTQ)";
    SeriesInFlight => "in flight (sent, not ACKed)", "在途（已发送，未确认）";
    SeriesRecvQueue => "receive queue (FIONREAD)", "接收队列 (FIONREAD)";
    SeriesThroughput => "reader throughput", "读取吞吐量";
    // The picture.
    UserSpace => "user space", "用户空间";
    Kernel => "kernel", "内核";
    WriterApp => "Writer application", "发送方应用程序";
    ReaderApp => "Reader application", "接收方应用程序";
    WriterBlockedFor => "BLOCKED in send() {} s", "send() 阻塞中 {} 秒";
    WriterBlocked => "BLOCKED in send()", "send() 阻塞中";
    WriterSending => "sending {}", "正在发送 {}";
    WriterPaused => "paused: no send() calls", "已暂停：不调用 send()";
    WriterFinished => "finished: close() sent FIN", "已结束：close() 发出 FIN";
    WriterPeerGone => "send() failed: peer gone", "send() 失败：对端已断开";
    Failed => "failed", "出错";
    ReaderReading => "reading {}", "正在读取 {}";
    ReaderPaused => "PAUSED: no recv() calls", "已暂停：不调用 recv()";
    ReaderDraining => "draining {}", "正在读完剩余数据 {}";
    ReaderEof => "recv() returned 0: end of stream", "recv() 返回 0：数据流结束";
    ReaderReset => "reset (ECONNRESET)", "连接被重置 (ECONNRESET)";
    Stopped => "stopped", "已停止";
    RateUnlimited => "unlimited", "不限速";
    RatePaused => "paused", "已暂停";
    RateLimit => "limit {}/s", "限速 {}/s";
    WriterDetail => "{} · send() stalls: {}", "{} · send() 阻塞次数：{}";
    SendCall => "send(data), {} each", "send(data)，每次 {}";
    SendBuffer => "send buffer (kernel)", "发送缓冲区（内核）";
    RecvBuffer => "receive buffer (kernel)", "接收缓冲区（内核）";
    OfCapacity => "of {}{}", "容量 {}{}";
    Asked => " (asked {})", "（请求 {}）";
    Autotuned => " (autotuned)", "（自动调节）";
    AutotunedFrom => " (autotuned; {} at the start)", "（自动调节；开始时 {}）";
    InFlightBytes => "in flight {}", "在途 {}";
    UnsentBytes => "unsent {}", "未发送 {}";
    WaitingForRecv => "waiting for recv() {}", "等待 recv() {}";
    Loopback => "loopback", "回环";
    PrivateLinkName => "private link", "私有链路";
    LinkMtu => "MTU {}", "MTU {}";
    LinkHeading => "Link", "链路";
    LinkFellBack => "No private link, so this connection runs on the machine's loopback: {}", "无法建立私有链路，这个连接改用本机回环：{}";
    SeriesCwnd => "congestion window", "拥塞窗口";
    SeriesSsthresh => "slow-start threshold", "慢启动阈值";
    LegendCwnd => "congestion window (dotted: slow-start threshold)", "拥塞窗口（点线：慢启动阈值）";
    LinkDelayEachWay => "{} ms each way", "单程延迟 {} 毫秒";
    LinkLossShort => "{} loss", "丢包 {}";
    BottleneckQueue => "queue {}", "排队 {}";
    BottleneckDrops => "{} dropped", "丢弃 {}";
    BottleneckQueueDelayed => "queue {} (the delayed packets included)", "排队 {}（含延迟中的数据包）";
    DelayHeldPackets => "{} packets delayed on the wire (hollow marks)", "延迟中 {} 个包（空心方块）";
    UseLink => "Private link (its own network)", "私有链路（独立的网络）";
    UseLinkHint => "Run the writer and reader over the loopback of a network namespace of their own, with an MTU of 1500, whose rate and cable you control. Changing it makes a new connection.", "让发送方和接收方通过一个独立网络命名空间的回环接口通信（MTU 1500），可以控制它的速率和网线。切换会建立新连接。";
    LinkNotWithPeer => "A private link is for sockscope's own writer and reader, not an outside peer.", "私有链路只用于 sockscope 自己的发送方和接收方，不能用于外部对端。";
    LinkRate => "Link rate", "链路速率";
    LinkDelay => "Link delay, each way", "链路延迟（单程）";
    LinkLoss => "Link loss", "链路丢包率";
    NoNetem => "this kernel has no netem and no netfilter queue: delay is unavailable; the rate, loss and the cable work", "此内核既没有 netem 也没有 netfilter 队列：无法设置延迟；速率、丢包和网线可用";
    DelayFellBehind => "the link's delay fell behind: sockscope's delaying thread could not keep up, and some packets crossed the link undelayed", "链路延迟跟不上：sockscope 的延迟线程处理不过来，部分数据包无延迟地通过了链路";
    DelayStopped => "the link's delay stopped: sockscope's delaying thread ended, and packets now cross the link undelayed", "链路延迟已停止：sockscope 的延迟线程已结束，数据包现在无延迟地通过链路";
    NoNfTables => "this kernel has no nf_tables: loss is unavailable; the rate and the cable work", "此内核没有 nf_tables：无法设置丢包；速率和网线可用";
    CongestionControl => "Congestion control", "拥塞控制算法";
    // What sets the speed (the bandwidth-delay product), on a link with a
    // delay: the formula and the measured speed side by side, then why.
    SpeedWindowHover => "What sets the speed: a sender may have only one window of bytes unacknowledged, and each ACK takes a round trip to come back, so a window allows at most window ÷ round trip bytes a second. The send buffer keeps every byte until its ACK.", "速度由什么决定：发送方最多只能有一个窗口的数据未被确认，而每个 ACK 都要一个往返时间才能回来，所以一个窗口每秒最多允许“窗口 ÷ 往返时间”字节。发送缓冲区要保留每个字节，直到它的 ACK 回来。";
    SpeedFormula => "{} {} ÷ round trip {} = {}", "{} {} ÷ 往返时间 {} = {}";
    SpeedNameRwnd => "receive window", "接收窗口";
    SpeedNameSndbuf => "send buffer", "发送缓冲区";
    SpeedNameCwnd => "congestion window", "拥塞窗口";
    SpeedLinkRate => "link rate {}", "链路速率 {}";
    SpeedWriterPace => "the writer's pace {}", "发送方的速率 {}";
    SpeedReaderPace => "the reader's pace {}", "接收方的读取速率 {}";
    SpeedMeasured => "measured {}", "实测 {}";
    SpeedWhyRwnd => "The receive buffer, not the link, sets the speed:", "决定速度的是接收缓冲区，而不是链路：";
    SpeedMoreRcvbuf => " a bigger SO_RCVBUF would go faster", "更大的 SO_RCVBUF 会更快";
    SpeedRcvbufAutotuned => " SO_RCVBUF is unset, so autotuning grows it, up to the maximum in net.ipv4.tcp_rmem.", "SO_RCVBUF 未设置，自动调节会增大它，最多到 net.ipv4.tcp_rmem 的上限。";
    SpeedWhySndbuf => "The send buffer, not the link, sets the speed:", "决定速度的是发送缓冲区，而不是链路：";
    SpeedMoreSndbuf => " a bigger SO_SNDBUF would go faster", "更大的 SO_SNDBUF 会更快";
    SpeedSndbufAutotuned => " SO_SNDBUF is unset, so autotuning grows it, up to the maximum in net.ipv4.tcp_wmem.", "SO_SNDBUF 未设置，自动调节会增大它，最多到 net.ipv4.tcp_wmem 的上限。";
    SpeedUpTo => ", up to {}.", "，最多到{}。";
    SpeedEnd => ".", "。";
    SpeedNextLink => "the link's {}", "链路的 {}";
    SpeedNextRwnd => "the {} the receive window allows", "接收窗口允许的 {}";
    SpeedNextSndbuf => "the {} the send buffer allows", "发送缓冲区允许的 {}";
    SpeedNextCwnd => "the {} the congestion window allows", "拥塞窗口允许的 {}";
    SpeedNextWriter => "the writer's {}", "发送方的 {}";
    SpeedNextReader => "the reader's {}", "接收方的 {}";
    SpeedWhyCwnd => "The congestion window ({} segments × {} B) sets the speed: the sender's congestion control ({}) has not opened it wider, so bigger buffers would not go faster now.", "决定速度的是拥塞窗口（{} 个报文段 × {} B）：发送方的拥塞控制（{}）还没有把它开得更大，所以现在加大缓冲区也不会更快。";
    SpeedWhyLink => "The link's rate sets the speed: the windows are big enough to keep it busy, so bigger buffers would not go faster; they would only fill the queue at the bottleneck.", "决定速度的是链路的速率：窗口已经大到能让链路一直忙碌，所以加大缓冲区不会更快，只会让瓶颈处的队列更长。";
    SpeedWhyWriter => "The writer's own pace sets the speed: the windows and the link would allow more.", "决定速度的是发送方自己的速率：窗口和链路都允许更快。";
    SpeedWhyReader => "The reader's pace sets the speed: what it leaves unread stays in the receive buffer, and the window shrinks to the room left.", "决定速度的是接收方的读取速率：没读走的数据留在接收缓冲区里，窗口缩小到剩下的空间。";
    SpeedNoDelay => "This link cannot have its delay ({}), so it runs without its {} ms each way: the lesson of a long link, window ÷ round trip, cannot be shown here.", "这条链路无法加上延迟（{}），所以它在没有单程 {} 毫秒延迟的情况下运行：长链路的一课“窗口 ÷ 往返时间”无法在这里演示。";
    UnplugCable => "Unplug the cable (U)", "拔掉网线 (U)";
    PlugCable => "Plug the cable in (U)", "插回网线 (U)";
    CableUnplugged => "cable unplugged", "网线已拔掉";
    CapUnplugged => "The cable is unplugged: no segment gets through and no ACK comes back. The writer's kernel keeps the bytes in the send buffer and, each time its timeout runs out, sends the oldest segment again and doubles the timeout (now {} ms).", "网线已拔掉：没有任何报文段能通过，也没有 ACK 回来。发送方的内核把数据留在发送缓冲区里，每次超时都会重传最早的报文段，并把超时时间加倍（现在是 {} 毫秒）。";
    OutsideWriterApp => "sockscope send()s to the peer", "sockscope 向对端 send()";
    OutsideReaderApp => "sockscope recv()s from the peer (same socket)", "sockscope 从对端 recv()（同一个套接字）";
    OutsidePeer => "outside peer\n{}", "外部对端\n{}";
    WaitingForPeer => "waiting for one outside client on {} (e.g. nc {} {})…", "正在 {} 等待一个外部客户端（例如 nc {} {}）…";
    ConnectingTo => "connecting to {}…", "正在连接 {}…";
    // No connection to draw yet, or none after a failed start.
    NoConnectionYet => "no connection yet", "尚无连接";
    NoConnection => "no connection", "没有连接";
    VesselNothingToMeasure => "nothing to measure", "没有可测量的内容";
    LinkListening => "listening on {}", "在 {} 上监听";
    LinkServer => "server {}", "服务器 {}";
    CapNoPeerYet => "No connection yet: sockscope listens on {} and waits for one client (e.g. nc {} {}). Until one connects there are no connection buffers to show, and nothing is sent or read.", "尚无连接：sockscope 正在 {} 上监听，等待一个客户端（例如 nc {} {}）。在客户端连上之前，没有连接的缓冲区可显示，也不发送或读取任何数据。";
    CapConnectingTo => "No connection yet: connecting to {}. Nothing is sent or read until the handshake completes.", "尚无连接：正在连接 {}。握手完成之前，不发送也不读取任何数据。";
    CapConnectingOwn => "No connection yet: sockscope's writer and reader are connecting.", "尚无连接：sockscope 的发送端和接收端正在建立连接。";
    CapConnectFailed => "No connection: connecting to {} failed: {}. Nothing is sent or read; R tries again.", "没有连接：连接 {} 失败：{}。没有发送或读取任何数据；按 R 重试。";
    CapListenFailed => "No connection: listening on {} failed: {}. R tries again.", "没有连接：在 {} 上监听失败：{}。按 R 重试。";
    CapOwnStartFailed => "No connection: sockscope's own connection could not be made: {}. R tries again.", "没有连接：无法建立 sockscope 自己的连接：{}。按 R 重试。";
    WhyRefused => "nothing listens on that port (connection refused)", "该端口上没有程序在监听（连接被拒绝）";
    WhyTimedOut => "no answer came (timed out)", "没有收到应答（超时）";
    WhyUnreachable => "no route to that address (unreachable)", "没有通往该地址的路由（不可达）";
    WhyAddressInUse => "another socket holds that address (address already in use)", "另一个套接字占用了该地址（地址已在使用）";
    WhyAddressNotAvailable => "that address is not one of this machine's (cannot assign requested address)", "该地址不属于本机（无法分配请求的地址）";
    CapOutPeerClosed => "The peer closed its side: sockscope's recv() returned 0 bytes (end of stream).", "对端关闭了它这一端：sockscope 的 recv() 返回 0 字节（数据流结束）。";
    CapOutBlocked => "send() is blocked{}: the send buffer is full because the peer is not reading fast enough{}.", "send() 阻塞{}：发送缓冲区已满，因为对端读得不够快{}。";
    CapOutZeroWindowTail => " (its window is 0)", "（它的窗口为 0）";
    CapOutZeroWindow => "The peer's window is 0: its receive buffer is full, so sockscope may not transmit; send() still copies into the send buffer until that fills.", "对端的窗口为 0：它的接收缓冲区已满，sockscope 不能再向对端发出数据；send() 仍会把数据复制进发送缓冲区，直到它也满了。";
    CapOutReaderPaused => "sockscope's reader is paused: what the peer sends piles up in the receive buffer.", "sockscope 的接收已暂停：对端发来的数据在接收缓冲区里越积越多。";
    CapOutWriterPaused => "sockscope sends nothing (write rate 0); the receive buffer shows what the peer sends.", "sockscope 不发送（写速度为 0）；接收缓冲区显示对端发来的数据。";
    CapAttClosed => "The connection is closed: its program closed the socket (the kernel finishes the connection on its own), or the kernel freed it.", "连接已关闭：它的程序关闭了套接字（内核自行完成连接的关闭），或内核已释放它。";
    CapAttFin => "The sending program closed its side (FIN received): after the queued bytes, the receiver's next recv() returns 0.", "发送方程序关闭了它这一端（已收到 FIN）：排队的字节读完后，接收方下一次 recv() 返回 0。";
    CapAttReceiverFull => "the receiving program is not reading fast enough: its {} of data take {} of kernel memory of {}, so it advertises a zero window", "接收方程序读得不够快：它的 {} 数据占用了 {} 内核内存（上限 {}），所以它通告零窗口";
    CapAttSendFull => "The send buffer is full{}: its queue takes {} of kernel memory of {}, so a send() now would block{}.", "发送缓冲区已满{}：它的队列占用了 {} 内核内存（上限 {}），所以此时调用 send() 会阻塞{}。";
    CapAttBecause => ", because {}", "，因为{}";
    CapAttRemoteZero => "The peer's window is 0: its receive buffer is full, so this end may not transmit; a send() still copies into the send buffer until that fills.", "对端的窗口为 0：它的接收缓冲区已满，这一端不能再发出数据；send() 仍会把数据复制进发送缓冲区，直到它也满了。";
    CapAttZeroWindow => "Zero window: {}. The sender keeps copying into its send buffer until that is full too.", "零窗口：{}。发送方继续把数据复制进发送缓冲区，直到它也满了。";
    CapAttRemote => "Only this end is on this machine: its send buffer holds what it sent and the peer has not acknowledged; its receive buffer what the peer sent and its program has not read.", "只有这一端在本机：它的发送缓冲区里是已发送、对端尚未确认的数据；接收缓冲区里是对端已发送、它的程序尚未读取的数据。";
    CapAttNormal => "Another program's connection, watched read-only through sock_diag: the bytes flow and the receiver keeps up.", "另一个程序的连接，通过 sock_diag 只读观察：数据在流动，接收方跟得上。";
    AttSendBufferFull => "send buffer full: a send() would block", "发送缓冲区已满：send() 会阻塞";
    AttFinSent => "closed its side: FIN sent", "已关闭它这一端：已发出 FIN";
    AttClosedState => "closed", "已关闭";
    AttFinReceived => "FIN received: end of stream after the queued bytes", "已收到 FIN：排队的字节之后数据流结束";
    AttNotYours => "a program not yours to see", "无权查看的程序";
    AttRemoteEnd => "the peer {} (another machine)", "对端 {}（另一台机器）";
    AttWatched => "watched, read-only", "只读观察";
    AttWriterDetail => "watched, read-only · send buffer full {}", "只读观察 · 发送缓冲区满 {}";
    AttWriterDetailBefore => "watched, read-only · send buffer full {}, the first before watching", "只读观察 · 发送缓冲区满 {}，第一次早于观察开始";
    AttNotReading => "NOT READING: its full queue does not move", "未在读取：接收队列已满且不动";
    AttHeading => "Watching {}", "正在观察 {}";
    AttReadOnlyNote => "Another program's connection, read through sock_diag: sockscope only watches it. Its rates, call sizes and buffers are its programs' to set, so there is nothing to throttle here.", "另一个程序的连接，通过 sock_diag 读取：sockscope 只观察它。它的速率、调用大小和缓冲区由它的程序决定，所以这里没有可以调节的东西。";
    AttBackToLab => "Back to sockscope's own connection (R)", "回到 sockscope 自己的连接（R）";
    ConnAddress => "Address", "地址";
    ConnAddressField => "only this address", "只看这个地址";
    ConnHeadWatch => "Live view", "实时视图";
    ConnWatch => "Watch", "观察";
    ConnWatchHint => "Show the buffers of the connection from {} live in the main view, read-only", "在主视图中实时显示来自 {} 的连接的缓冲区（只读）";
    AttachFailed => "Could not watch that connection: {}", "无法观察该连接：{}";
    OpenHeading => "Open a recording", "打开录制文件";
    OpenField => "recording to open", "要打开的录制文件";
    OpenButton => "Open", "打开";
    OpenHint => "A CSV from record --csv or an export (its .json beside it gives the settings): type its path, choose it with Open…, or drop it on the window.", "record --csv 或导出的 CSV 文件（旁边的 .json 提供设置）：输入路径、用“打开…”选择，或把文件拖到窗口上。";
    BrowseButton => "Open… (Ctrl+O)", "打开…（Ctrl+O）";
    BrowseTitle => "Choose a recording", "选择录制文件";
    BrowseUp => "Up", "上一级";
    BrowseExports => "Exports", "导出的文件";
    BrowseHome => "Home", "主目录";
    BrowseEmpty => "No folders or CSV recordings here.", "这里没有文件夹或 CSV 录制文件。";
    BrowseError => "Cannot read {}: {}.", "无法读取 {}：{}。";
    BrowseSummary => "with its summary", "有摘要";
    Opening => "reading {}", "正在读取 {}";
    PlaybackHeading => "A recorded run", "录制的运行";
    AnimLiveHeading => "The live run, drawn for slides", "实时运行，正在绘制成动画";
    AnimLiveNote => "Its samples, saved a moment ago, drawn frame by frame; the run goes on, and the window returns to it.", "它的采样刚刚保存，正在逐帧绘制；运行仍在继续，窗口随后回到它。";
    PlaybackNote => "Played back from a file: nothing runs, nothing can be changed. Space plays and pauses, Left and Right step one sample, the slider goes to any moment.", "从文件回放：没有运行任何连接，也不能更改。空格播放和暂停，左右方向键逐个采样，滑块跳到任意时刻。";
    PlaybackSettings => "It ran with: writer {} in send() calls of {}, reader {} in recv() calls of {}, {} samples a second.", "运行时的设置：发送方 {}，每次 send() {}；接收方 {}，每次 recv() {}；每秒 {} 个采样。";
    PlaybackNoSummary => "No summary (.json) beside the file: the buffer sizes and settings above are defaults, not the run's.", "文件旁边没有摘要（.json）：上面的缓冲区大小和设置是默认值，不是这次运行的。";
    PlayPlay => "Play (Space)", "播放（空格）";
    PlayPause => "Pause (Space)", "暂停（空格）";
    PlayBack => "< Sample (Left)", "< 上一个采样（左）";
    PlayForward => "Sample > (Right)", "下一个采样 >（右）";
    PlayPosition => "of {} s", "共 {} 秒";
    PlaySpeed => "speed", "速度";
    PlaybackFile => "{} · {} samples, settings from its summary", "{} · {} 个采样，设置来自它的摘要";
    PlaybackFileNoSummary => "{} · {} samples · no summary beside it: sizes and settings unknown", "{} · {} 个采样 · 旁边没有摘要：大小和设置未知";
    AnimButton => "Animate a span… (A)", "把一段做成动画…（A）";
    AnimTitle => "Animation for slides", "幻灯片动画";
    AnimIntro => "Draws a span of the timeline (seconds as on its axis) frame by frame from the samples, at a fixed frame rate: no frame is dropped or doubled.", "按时间线上的秒数选一段，按固定帧率从采样逐帧绘制：不丢帧，也不重复。";
    AnimNoSamples => "No samples yet: start a run or open a recording.", "还没有采样：请先开始运行或打开一个录制。";
    AnimFrom => "From", "从";
    AnimTo => "To", "到";
    AnimFps => "Frame rate", "帧率";
    AnimFormat => "File", "文件";
    AnimGif => "GIF (every slide program plays it)", "GIF（所有幻灯片软件都能播放）";
    AnimApng => "animated PNG (full colour)", "动画 PNG（全彩色）";
    AnimOf => "Shows", "画面";
    AnimWindow => "the whole window", "整个窗口";
    AnimTimeline => "the timeline panel", "时间线面板";
    AnimFrames => "{} frames, {} s on a slide", "{} 帧，在幻灯片上播放 {} 秒";
    AnimTooMany => "{} frames: at most {}; shorten the span or lower the frame rate.", "{} 帧：最多 {} 帧；请缩短时段或降低帧率。";
    AnimEmpty => "'To' must come after 'From'.", "“到”必须在“从”之后。";
    AnimLive => "The run's samples are saved first (a CSV beside the animation); the window shows each frame as it draws it, then returns to the live run, which goes on meanwhile.", "先保存运行的采样（动画旁边的 CSV）；窗口逐帧显示正在绘制的画面，然后回到实时运行，运行在此期间不会停止。";
    AnimStart => "Draw and save", "绘制并保存";
    AnimPreparing => "Saving the samples for the animation: {}", "正在为动画保存采样：{}";
    AnimDrawing => "sockscope — drawing frame {} of {} (Esc stops)", "sockscope — 正在绘制第 {} 帧，共 {} 帧（Esc 停止）";
    AnimSaved => "Animation saved: {} ({} frames)", "动画已保存：{}（{} 帧）";
    AnimSavedSamples => " · its samples: {}", " · 它的采样：{}";
    AnimFailed => "No animation: {}", "动画未保存：{}";
    AnimStopped => "stopped with Esc; the animation was not written", "已按 Esc 停止，动画未写入";
    MemoryDrops => " · {} dropped", " · 丢弃 {} 个";
    MemoryLine => "memory with overhead {} · {}%", "含开销的内存 {} · {}%";
    CapOutNormal => "One socket to an outside peer: the send buffer holds what sockscope's send() handed over and the peer has not yet acknowledged; the receive buffer holds what the peer sent and sockscope has not read.", "一个连到外部对端的套接字：发送缓冲区里是 sockscope 的 send() 交给内核、对端尚未确认的数据；接收缓冲区里是对端已发送但 sockscope 尚未读取的数据。";
    WindowZero => "window = 0", "窗口 = 0";
    WindowBytes => "window {}", "窗口 {}";
    Probes => "zero-window probes unanswered: {}", "未应答的零窗口探测：{}";
    // Captions.
    CapPeerClosed => "The writer closed its side: the reader's recv() returned 0 bytes (end of stream).", "发送方关闭了它这一端：接收方的 recv() 返回 0 字节（数据流结束）。";
    CapReset => "The connection was reset: the peer is gone.", "连接被重置：对端已不在。";
    CapOutPeerReset => "The peer has left: its kernel reset the connection (RST). A socket closed with bytes still unread sends RST instead of FIN; the lesson's one-shot server does this when it close()s after one recv(1024). Not an error.", "对端已离开：它的内核重置了连接（RST）。套接字在还有未读数据时被关闭，会发送 RST 而不是 FIN；课程中只 recv(1024) 一次就 close() 的服务器就是这样。这不是错误。";
    CapWindowDraining => "Linux keeps it at 0 until the free space is worth one segment ({}, tcpi_rcv_mss; at least 1/16 and at most half of the buffer): {} of the buffer's {} is free (a segment's memory is freed only once it has been read to its end), and {} waits to be read.", "Linux 会一直保持窗口为 0，直到空闲空间够放一个报文段（{}，tcpi_rcv_mss；至少为缓冲区的 1/16，至多为一半）：现在有 {} 空闲（缓冲区共 {}；一个报文段要整个读完，它占的内存才会释放），还有 {} 等待读取。";
    CapWindowReopening => "the reader has made room ({} free, {} needed), so its next ACK reopens the window.", "接收方已经读出数据，空出了空间（{} 空闲，需要 {}），它的下一个 ACK 就会重新打开窗口。";
    CapWindowSegment => "Linux keeps it at 0 until the free space reaches one segment ({} here, tcpi_rcv_mss) or 1/16 of the buffer.", "Linux 会一直保持窗口为 0，直到空闲空间达到一个报文段（这里是 {}，tcpi_rcv_mss）或缓冲区的 1/16。";
    CapWindowPaused => "its receive buffer is full and the reader makes no recv() calls.", "接收缓冲区已满，而接收方没有调用 recv()。";
    CapWindowSlow => "its receive buffer is full: the reader is slower than the writer.", "接收缓冲区已满：接收方比发送方慢。";
    CapBecauseZero => "because the receiver's window is 0: {}", "因为接收方的窗口为 0：{}";
    CapChunkTooBig => "one send() of this size is larger than the whole send buffer, so it waits for room in pieces.", "一次 send() 的数据比整个发送缓冲区还大，只能分批等待空间。";
    CapClosing => "less than half of the receive buffer is free, so the window is closing and bytes wait in the send buffer for room.", "接收缓冲区的空闲空间已不到一半，窗口正在关闭，数据只能在发送缓冲区里等待空间。";
    CapWriterFaster => "the writer hands bytes over faster than the kernel sends them on.", "发送方交给内核的速度比内核发出去的速度快。";
    CapInFlightTail => " {} of it is in flight: sent, and kept in the send buffer until its ACK comes back (round trip {} ms).", "其中 {} 正在传输中：已经发出，但要等 ACK 回来才能从发送缓冲区删除（往返时间 {} 毫秒）。";
    CapInFlight => "Sent but not yet acknowledged: {} is in flight. These bytes stay in the send buffer until their ACK comes back (round trip {} ms), so the kernel can send them again if one is lost.", "已发送但尚未确认：{} 正在传输中。这些数据要等 ACK 回来才会从发送缓冲区删除（往返时间 {} 毫秒），这样万一丢失，内核可以重传。";
    CapBlockedFor => " (for {} s)", "（已 {} 秒）";
    CapBlockedForAtLeast => " (for at least {} s: it was full when watching began)", "（至少已 {} 秒：开始观察时已满）";
    CapBlocked => "send() is blocked{}: the send buffer is full, {}", "send() 阻塞{}：发送缓冲区已满，{}";
    CapZeroWindow => "The receiver's window is 0, so the sender may not transmit: {} send() still copies into the send buffer until that fills.", "接收方的窗口为 0，发送方的内核不能再发出数据：{} 在发送缓冲区填满之前，send() 仍然可以把数据复制进去。";
    CapReaderPaused => "The reader is paused: nothing calls recv(), so the bytes pile up in the receive buffer.", "接收方已暂停：没有人调用 recv()，数据在接收缓冲区里越积越多。";
    CapWriterPaused => "The writer is paused: no send() calls, so there is nothing to move.", "发送方已暂停：没有 send() 调用，也就没有数据流动。";
    CapFilling => "The reader is slower than the writer: the receive buffer is filling.", "接收方比发送方慢：接收缓冲区正在变满。";
    CapNormalLink => "send() only copies bytes into the kernel's send buffer; the kernel sends them over the link, and recv() takes them from the receive buffer. The reader keeps up, so both buffers stay nearly empty.", "send() 只是把数据复制到内核的发送缓冲区；内核通过链路把它们发出，recv() 再从接收缓冲区取走。接收方跟得上，所以两个缓冲区几乎都是空的。";
    CapLossy => "The link drops {} of the packets. The writer's kernel learns of each lost segment from the ACKs that come back (or, failing that, from a timeout) and sends it again from the send buffer ({} resent so far); the reader still gets every byte, in order.", "链路会丢掉 {} 的数据包。发送方的内核从返回的 ACK 得知哪个报文段丢了（否则靠超时），再从发送缓冲区重传它（到目前为止重传了 {} 个）；接收方仍然按顺序收到每一个字节。";
    CapLossTail => " The link drops {} of the packets: {} segments resent so far.", "链路会丢掉 {} 的数据包：到目前为止重传了 {} 个报文段。";
    CapNormal => "send() only copies bytes into the kernel's send buffer; the kernel sends them over loopback at once, and recv() takes them from the receive buffer. The reader keeps up, so both buffers stay nearly empty.", "send() 只是把数据复制到内核的发送缓冲区；内核立刻通过回环发出，recv() 再从接收缓冲区取走。接收方跟得上，所以两个缓冲区几乎都是空的。";
    // Controls.
    Reader => "Reader", "接收方";
    Writer => "Writer", "发送方";
    ReaderRate => "Reader rate", "读取速率";
    WriterRate => "Writer rate", "发送速率";
    NoLimit => "{}: no limit", "{}：不限速";
    ZeroPauses => "0 pauses: no calls at all", "0 表示暂停：完全不调用";
    RecvSize => "recv(bufsize)", "recv(bufsize)";
    SendSize => "send(data) size", "send(data) 大小";
    KernelBuffers => "Kernel buffers", "内核缓冲区";
    Unset => "{}: unset (autotuning)", "{}：不设置（自动调节）";
    SizeAsked => "{}: asked {}, kernel uses {}{}", "{}：请求 {}，内核实际使用 {}{}";
    SizeCapped => " (capped, then doubled)", "（先被上限截断，再翻倍）";
    SizeRaised => " (raised to the minimum)", "（提高到最小值）";
    SizeDoubled => " (doubled)", "（翻倍）";
    SizeAutotuned => "{}: unset, autotuning from {}", "{}：未设置，从 {} 开始自动调节";
    ApplySizes => "Apply sizes (new connection)", "应用大小（新建连接）";
    ApplyHover => "Buffer sizes are set before listen()/connect(): the window scale is agreed in the handshake, so new sizes need a new connection.", "缓冲区大小要在 listen()/connect() 之前设置：窗口缩放因子在握手时协商，所以新的大小需要新的连接。";
    ApplyNote => "Sizes apply at connect(): applying restarts the connection.", "大小在 connect() 时生效：应用会重新建立连接。";
    Sampling => "Sampling", "采样";
    SampleRate => "Sample rate (Hz)", "采样率 (Hz)";
    Restart => "Restart (R)", "重新开始（R）";
    Preset => "Preset", "预设";
    Load => "load…", "载入…";
    Scenario => "Scenario", "场景";
    PlayScenario => "Play scenario", "播放场景";
    Choose => "choose…", "选择…";
    ScenarioFile => "Scenario file", "场景文件";
    PlayFile => "Play file", "播放文件";
    ScenarioStarted => "scenario {}: started", "场景 {}：已开始";
    ScenarioStep => "scenario {} at {} s: {}{}", "场景 {} 在 {} 秒：{}{}";
    ScenarioLast => " (last step)", "（最后一步）";
    ScenarioNext => "; next step at {} s", "；下一步在 {} 秒";
    // Info panel.
    InfoConnection => "This connection", "本连接";
    InfoNoConnection => "No connection yet.", "还没有连接。";
    InfoSizes => "Sizes", "大小";
    InfoCounts => "What the numbers count", "这些数字统计的是什么";
    InfoFlow => "Flow control on loopback", "回环上的流量控制";
    InfoRaised => "{}: asked {} → the kernel stores {}: its minimum, which is more than 2 × the request.", "{}：请求 {} → 内核保存 {}：这是它的最小值，比请求的 2 倍还大。";
    InfoClamped => "{}: asked {} → capped at {} = {}, then doubled: the kernel stores {}.", "{}：请求 {} → 先被 {} = {} 截断，再翻倍：内核保存 {}。";
    InfoDoubled => "{}: asked {} → the kernel stores {} (2 × the request; the cap {} is {}).", "{}：请求 {} → 内核保存 {}（请求的 2 倍；上限 {} 为 {}）。";
    InfoAutotuned => "{}: not set, so the kernel autotunes it, starting at {} and growing up to the third value of {}.", "{}：未设置，由内核自动调节，从 {} 开始，最多增长到 {} 的第三个值。";
    InfoSize1 => "setsockopt(SO_SNDBUF / SO_RCVBUF, n) caps n at net.core.wmem_max / rmem_max and stores 2 × n; getsockopt returns the doubled value. The extra half pays for the kernel's bookkeeping (sk_buff overhead).", "setsockopt(SO_SNDBUF / SO_RCVBUF, n) 先用 net.core.wmem_max / rmem_max 截断 n，再保存 2 × n；getsockopt 返回翻倍后的值。多出的一半用于内核的管理开销（sk_buff 开销）。";
    InfoSize2 => "The minimums are not socket(7)'s 2048/256: they derive from TCP_SKB_MIN_TRUESIZE. Ask for 1 byte and read back to see them.", "最小值并不是 socket(7) 写的 2048/256：它们由 TCP_SKB_MIN_TRUESIZE 推出。请求 1 字节再读回，就能看到。";
    InfoSize3 => "Setting a size switches autotuning off for that socket; left unset, the send buffer grows up to the third value of net.ipv4.tcp_wmem.", "设置了大小，这个套接字就关闭了自动调节；不设置时，发送缓冲区最多增长到 net.ipv4.tcp_wmem 的第三个值。";
    InfoSize4 => "Sizes are set before listen() / connect(): the window scale is agreed in the handshake. An accepted socket takes the listener's receive buffer. That is why applying new sizes opens a new connection.", "大小要在 listen() / connect() 之前设置：窗口缩放因子在握手时协商。accept() 得到的套接字沿用监听套接字的接收缓冲区。所以应用新的大小要新建连接。";
    InfoCount1 => "Receive queue = FIONREAD on the reader: bytes received and not yet taken by recv().", "接收队列 = 接收方的 FIONREAD：已收到、还没被 recv() 取走的字节。";
    InfoCount2 => "Send queue = SIOCOUTQ on the writer: unsent bytes plus bytes sent but not yet acknowledged (tcp(7) calls it \"unsent\", but it counts both). SIOCOUTQNSD counts only the unsent ones; in flight = SIOCOUTQ − SIOCOUTQNSD.", "发送队列 = 发送方的 SIOCOUTQ：未发送的字节加上已发送但未确认的字节（tcp(7) 称之为“未发送”，其实两者都算）。SIOCOUTQNSD 只统计未发送的；在途 = SIOCOUTQ − SIOCOUTQNSD。";
    InfoCount3 => "The queues count payload bytes, the buffer sizes count kernel memory: the receive queue never reaches the effective SO_RCVBUF, and the send queue can slightly exceed the effective SO_SNDBUF.", "队列统计的是数据字节，缓冲区大小统计的是内核内存：接收队列永远到不了实际的 SO_RCVBUF，发送队列可能略微超过实际的 SO_SNDBUF。";
    InfoFlow1 => "Loopback has no real delay: ACKs return at once, so almost nothing is in flight and the send queue stays near zero until the receiver's window closes.", "回环没有真正的延迟：ACK 立刻返回，所以几乎没有在途数据，发送队列在接收方窗口关闭之前一直接近 0。";
    InfoFlow2 => "The receiver advertises a window smaller than its buffer, and advertises 0 once its free space falls below a threshold; it reopens in steps as the reader drains.", "接收方通告的窗口比它的缓冲区小；空闲空间低于某个阈值时通告 0；随着接收方读走数据，窗口分步重新打开。";
    InfoFlow3 => "Measured here: send() can block a moment before the window reads 0. The last bytes sent already sit in the receive buffer but are not yet acknowledged; the ACK that carries window 0 came about 20 ms later.", "在这台机器上实测：send() 可能在窗口显示为 0 之前就阻塞。最后发出的数据已在接收缓冲区里但还没被确认；带着窗口 0 的 ACK 大约 20 毫秒后才到。";
    InfoFlow4 => "A closed window stays closed until the receiver has room for one whole segment (tcpi_rcv_mss; on loopback segments are large) or a sixteenth of its buffer: silly-window-syndrome avoidance, __tcp_select_window() in net/ipv4/tcp_output.c.", "关闭的窗口要等接收方能放下一个完整报文段（tcpi_rcv_mss；回环上的报文段很大）或缓冲区的十六分之一时才重新打开：这是避免糊涂窗口综合征，见 net/ipv4/tcp_output.c 中的 __tcp_select_window()。";
    InfoFlow5 => "While the window is 0 the sender probes it. Linux's zero-window probes are zero-length segments with sequence snd_una − 1, not the 1-byte probes of textbooks.", "窗口为 0 时，发送方会发送探测。Linux 的零窗口探测是序号为 snd_una − 1 的零长度报文段，而不是教科书里的 1 字节探测。";
    InfoFlow6 => "recv() returning 0 bytes means the peer closed its side (FIN received), or that a reset already reported to another call (ECONNRESET to send()) left the socket closed: sockscope tells the two apart by the socket's state (CLOSE_WAIT after a FIN, CLOSE after a reset).", "recv() 返回 0 字节表示对端关闭了它那一端（收到了 FIN），或者连接已被重置、而这个错误已经报告给了另一个调用（send() 得到 ECONNRESET）：sockscope 根据套接字的状态区分两者（收到 FIN 后是 CLOSE_WAIT，被重置后是 CLOSE）。";
    // SO_REUSEADDR experiment.
    ReuseTitle => "Try it: restart a server while its old connection waits in TIME_WAIT", "动手试试：旧连接还在 TIME_WAIT 时重启服务端";
    ReuseIntro => "Real sockets: a server accepts a connection and closes it first, so its side waits in TIME_WAIT; then a new server binds the same port.", "真实套接字：服务端接受一个连接并先关闭，它这一端进入 TIME_WAIT；然后新的服务端绑定同一个端口。";
    ReuseRun => "Run the experiment", "运行实验";
    ReuseRunning => "running…", "正在运行…";
    ReuseWith => "with SO_REUSEADDR", "设置 SO_REUSEADDR";
    ReuseWithout => "without SO_REUSEADDR", "不设置 SO_REUSEADDR";
    ReuseRow => "old server {}, new server {} → port {}: {}", "旧服务端{}，新服务端{} → 端口 {}：{}";
    ReuseOk => "bind() succeeded", "bind() 成功";
    ReuseFailed => "bind() failed: {}", "bind() 失败：{}";
    ReuseConclusion => "On Linux the bind succeeds only when both servers set SO_REUSEADDR: the TIME_WAIT entry keeps the old socket's setting. That is why the lesson's server sets it on every run: tcp_server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True) — in Rust, socket.set_reuse_address(true) before bind().", "在 Linux 上，只有新旧两个服务端都设置了 SO_REUSEADDR，bind 才会成功：TIME_WAIT 记录保留了旧套接字的设置。所以课程里的服务端每次运行都要设置：tcp_server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)——在 Rust 中是 bind() 之前调用 socket.set_reuse_address(true)。";
    ReuseError => "The experiment could not set up its connection: {}", "实验无法建立连接：{}";
    // Messages window.
    Messages => "Messages", "消息";
    Connections => "Connections", "所有连接";
    ConnectionsHover => "N: every TCP connection on this machine, its queues and memory, refreshed each second", "N：本机所有 TCP 连接及其队列和内存，每秒刷新";
    ConnTitle => "Every TCP connection on this machine", "本机所有 TCP 连接";
    ConnIntro => "From the kernel's socket list (sock_diag, what ss reads), once a second, most queued first. On a listener the receive queue is the connections waiting for accept() and the send queue its backlog.", "来自内核的套接字列表（sock_diag，ss 读取的同一来源），每秒刷新，排队最多的在前。对监听套接字，接收队列是等待 accept() 的连接数，发送队列是它的 backlog。";
    ConnPort => "Port", "端口";
    ConnPortField => "only this port", "只看这个端口";
    ConnState => "State", "状态";
    ConnAnyState => "any", "全部";
    ConnError => "the socket list could not be read: {}", "无法读取套接字列表：{}";
    ConnCount => "{} shown of {}", "显示 {} 个，共 {} 个";
    ConnMore => "{} more (filter by port or state)", "还有 {} 个（可按端口或状态筛选）";
    ConnNotYours => "not yours to see", "无权查看";
    ConnNoProgram => "no program (the kernel finishes it)", "无进程（由内核收尾）";
    ConnAcceptQueue => "{} waiting for accept()", "{} 个等待 accept()";
    ConnBacklog => "backlog {}", "backlog {}";
    ConnHeadState => "state", "状态";
    ConnHeadLocal => "local", "本地";
    ConnHeadPeer => "peer", "对端";
    ConnHeadRecvQ => "receive queue", "接收队列";
    ConnHeadSendQ => "send queue", "发送队列";
    ConnHeadMemory => "receive memory / buffer", "接收内存 / 缓冲区";
    ConnHeadSendMemory => "send memory / buffer", "发送内存 / 缓冲区";
    ConnHeadWindow => "window", "窗口";
    ConnHeadOwner => "process", "进程";
    MessagesHover => "M: send and recv text by hand on a real connection", "M：在真实连接上手动 send 和 recv 文本";
    MsgTitle => "Messages: a byte stream has no boundaries", "消息：字节流没有边界";
    MsgIntro => "A real loopback connection; each button makes one real call. recv(N) takes at most N bytes, two sends can come out as one recv, and recv() returns 0 after the peer closes.", "一个真实的回环连接，每个按钮执行一次真实的调用。recv(N) 最多取 N 个字节，两次 send 可能被一次 recv 取出，对端关闭后 recv() 返回 0。";
    MsgText => "Message text", "消息文本";
    MsgBytes => "{} bytes in {}: {}", "{} 字节（{}）：{}";
    MsgSend => "client: send(data)", "客户端：send(data)";
    MsgRecvSize => "recv bufsize", "recv bufsize";
    MsgRecv => "server: recv(bufsize)", "服务端：recv(bufsize)";
    MsgClose => "client: close()", "客户端：close()";
    MsgNew => "new connection", "新建连接";
    MsgQueues => "client send queue {} · server receive queue {}", "客户端发送队列 {} · 服务端接收队列 {}";
    MsgSent => "send() took {} bytes: {}", "send() 接收了 {} 字节：{}";
    MsgGot => "recv({}) returned {} bytes: {} → \"{}\"", "recv({}) 返回 {} 字节：{} → “{}”";
    MsgWouldBlock => "recv() would block: nothing to read yet", "recv() 会阻塞：还没有可读的数据";
    MsgPeerClosed => "recv() returned 0 bytes: the peer closed its side", "recv() 返回 0 字节：对端已关闭";
    MsgError => "the call failed: {}", "调用失败：{}";
    MsgConnecting => "connecting…", "正在连接…";
    // Step mode window.
    Steps => "Step mode", "分步模式";
    StepsHover => "T: the lesson's server and client calls, one real call per button", "T：课程中的服务端和客户端调用，每个按钮执行一次真实调用";
    StepsTitle => "Step mode: the server's and the client's calls", "分步模式：服务端和客户端的调用";
    StepsIntro => "Each button makes the real system call, in the lesson's order. A call that would block (accept() with no client, recv() with no data) waits, and the window keeps working.", "每个按钮执行真实的系统调用，按课程中的顺序。会阻塞的调用（没有客户端时的 accept()、没有数据时的 recv()）会一直等待，而窗口照常响应。";
    StepsOnLink => "On a private link (see the packets)", "在私有链路上（看到数据包）";
    StepsOnLinkHover => "Make the sockets in a private network of their own and capture every packet between them: connect()'s handshake, send()'s segments and ACKs, close()'s FINs.", "在一个独立的私有网络里创建套接字，并抓取它们之间的每一个数据包：connect() 的三次握手、send() 的报文段和 ACK、close() 的 FIN。";
    StepsWire => "The packets between the two sockets (client left, server right):", "两个套接字之间的数据包（左边客户端，右边服务端）：";
    StepsWireEmpty => "No packets yet: connect() sends the first (SYN).", "还没有数据包：connect() 会发出第一个（SYN）。";
    BacklogTitle => "The accept queue: listen(backlog) without accept()", "连接队列：listen(backlog) 之后不调用 accept()";
    BacklogIntro => "On a private link of its own: a listener that never calls accept(), and more clients than its queue holds. The kernel finishes the handshake of as many as the queue holds and drops the others' SYNs; they send them again, unanswered.", "在一个独立的私有链路上：监听套接字从不调用 accept()，客户端比队列能容纳的多。内核为队列能容纳的客户端完成三次握手，丢弃其余客户端的 SYN；它们会重发，却得不到应答。";
    BacklogRun => "Run: listen({}), {} clients, no accept()", "运行：listen({})，{} 个客户端，不调用 accept()";
    BacklogRunning => "running (1.5 s)…", "运行中（1.5 秒）…";
    BacklogQueue => "listen({}): {} connections wait in the accept queue (the listener's TCP_INFO; its backlog is {}, and Linux queues one more)", "listen({})：{} 个连接在队列中等待 accept()（来自监听套接字的 TCP_INFO；backlog 为 {}，Linux 会多排一个）";
    BacklogQueued => "client port {}: {}, waiting in the queue for accept()", "客户端端口 {}：{}，在队列中等待 accept()";
    BacklogRefused => "client port {}: {}, its SYN sent {} and never answered: the queue is full", "客户端端口 {}：{}，SYN 发了 {}都没有应答：队列已满";
    StepsServer => "Server", "服务端";
    StepsClient => "Client", "客户端";
    StepsPython => "Python", "Python";
    StepsRust => "Rust", "Rust";
    StepsData => "send data", "发送的数据";
    StepsState => "TCP state {} · local {} · peer {}", "TCP 状态 {} · 本地 {} · 对端 {}";
    StepsNoSocket => "no socket", "没有套接字";
    StepsDone => "done", "完成";
    StepsAccepted => "accepted a connection from {}", "接受了来自 {} 的连接";
    StepsSent => "sent {} bytes", "发送了 {} 字节";
    StepsReceived => "received {} bytes: \"{}\"", "收到 {} 字节：“{}”";
    StepsWaiting => "waiting (a blocking call would stop here)", "等待中（阻塞调用会停在这里）";
    StepsNew => "start over", "重新开始";
    // The thread-per-client server.
    Server => "Server", "多线程服务端";
    Wire => "Wire", "线路";
    WireHover => "W: every packet of the connection on its private link, as a ladder diagram and a sequence graph", "W：私有链路上这个连接的每一个数据包，以梯形图和序列号图显示";
    WireTitle => "The wire: every packet", "线路：每一个数据包";
    WireNeedsLink => "Packets are captured on a private link: tick “Private link (its own network)” under Link.", "数据包在私有链路上抓取：请在“链路”下勾选“私有链路（独立的网络）”。";
    WireCounts => "{} frames captured, {} dropped by the capture · the capture saw {} segments from the writer (its kernel sent {}) and {} to it (its kernel received {})", "抓到 {} 帧，抓包丢弃 {} 帧 · 抓包看到发送方发出的 {} 个报文段（其内核发出 {} 个）和发给它的 {} 个（其内核收到 {} 个）";
    WireBottleneckDrops => " · the bottleneck dropped {} before the capture saw them", " · 瓶颈在抓包之前丢弃了 {} 个";
    WireFollowCursor => "Follow the cursor", "跟随光标";
    WireFollow => "Follow live", "实时跟随";
    WireSpan => "Time shown", "显示时长";
    WireLadder => "Ladder diagram", "梯形图";
    WireLadderArea => "the packets, time downward (click one)", "数据包，时间向下（点击一个）";
    WireSequence => "Sequence graph", "序列号图";
    WireWriterSide => "writer", "发送方";
    WireReaderSide => "reader", "接收方";
    WireClickHint => "Click a packet and the buffers show that moment; drag to scroll, scroll to zoom.", "点击一个数据包，缓冲区就显示那一刻；拖动可滚动，滚轮可缩放。";
    WireMarked => "The buffers show {} s, the moment marked on the wire or the timeline (Esc or L: back to live).", "缓冲区显示的是 {} 秒，即在线路或时间线上标记的那一刻（Esc 或 L：回到实时）。";
    WireReplayed => "Replayed from {}: {} of its {} segments up to this moment", "回放自 {}：到此刻为止 {} 个报文段（共 {} 个）";
    WireNoReplay => "This recording has no capture of the wire. Record with --pcap FILE (on a private link), or export from the window on one, to replay its packets here.", "这段录制没有抓包。用 --pcap 文件 录制（在私有链路上），或在私有链路上从窗口导出，即可在这里回放它的数据包。";
    WireReplayUnreadable => "The capture {} could not be opened ({}): the samples play without their packets.", "无法打开抓包文件 {}（{}）：只回放采样，不含数据包。";
    WireReplayNoClock => "The summary does not say when the samples' clock started, so the packets of {} cannot be placed beside them.", "摘要没有记录采样时钟的起点，因此无法把 {} 中的数据包与采样对齐。";
    WireThinned => "{} packets in view: one arrow in {} is drawn", "视图中有 {} 个数据包：每 {} 个画一个箭头";
    KindSyn => "SYN", "SYN";
    KindSynAck => "SYN-ACK", "SYN-ACK";
    KindData => "seq {} · {} B", "seq {} · {} B";
    KindRetransmission => "resent: seq {} · {} B", "重传：seq {} · {} B";
    KindAck => "ack {} · win {}", "ack {} · 窗口 {}";
    KindDupAck => "duplicate ACK {}", "重复 ACK {}";
    KindWindowUpdate => "window update: win {}", "窗口更新：窗口 {}";
    KindZeroWindow => "ack {} · window 0", "ack {} · 窗口 0";
    KindProbe => "zero-window probe", "零窗口探测";
    KindFin => "FIN", "FIN";
    KindRst => "RST", "RST";
    LegendData => "data", "数据";
    LegendRetransmission => "retransmission", "重传";
    LegendAck => "ACK", "ACK";
    LegendDupAck => "duplicate ACK", "重复 ACK";
    LegendWindowUpdate => "window update", "窗口更新";
    LegendZeroWindowSeg => "zero window", "零窗口";
    LegendProbe => "zero-window probe", "零窗口探测";
    LegendControl => "SYN, FIN", "SYN、FIN";
    LegendRst => "RST", "RST";
    SeqSent => "bytes sent (seq)", "已发送字节（seq）";
    SeqAcked => "acknowledged (ack)", "已确认（ack）";
    SeqWindow => "window's right edge (ack + window)", "窗口右边界（ack + 窗口）";
    SeqRetransmitted => "sent again", "重传";
    SeqAxis => "bytes from the start", "从开始算起的字节";
    ServerHover => "G: a thread-per-client server, every connection's buffers in a grid", "G：每个客户端一个线程的服务端，所有连接的缓冲区并排显示";
    SrvTitle => "Thread-per-client server", "多线程服务端：每个客户端一个线程";
    SrvIntro => "A real server on {}: one thread waits in accept(), and every client it accepts gets a server thread of its own that recv()s from it. All accepted sockets have the server's port; the clients differ by their own ports.", "一个真实的服务端，地址 {}：一个线程在 accept() 中等待，每接受一个客户端就为它启动一个专门的服务线程来 recv()。所有已接受的套接字都使用服务端的端口，客户端之间靠各自的端口区分。";
    SrvEach => "Each client send()s {} in {} calls; SO_SNDBUF {} and SO_RCVBUF {} requested.", "每个客户端以 {} 的速度调用 send()，每次 {}；请求 SO_SNDBUF {}、SO_RCVBUF {}。";
    SrvAdd => "+ client: connect()", "+ 客户端：connect()";
    SrvRemove => "− client: close()", "− 客户端：close()";
    SrvCount => "{} of {} clients", "{} / {} 个客户端";
    SrvStarting => "starting the server…", "正在启动服务端…";
    SrvFailed => "the server could not start: {}", "服务端无法启动：{}";
    SrvClient => "Client {}", "客户端 {}";
    SrvFrom => "port {}, server thread {}", "端口 {}，服务线程 {}";
    SrvSendBuf => "send buffer", "发送缓冲区";
    SrvRecvBuf => "receive buffer", "接收缓冲区";
    SrvBlocked => "send() blocked: buffers full", "send() 阻塞：缓冲区已满";
    SrvZeroWindow => "window 0: receive buffer full", "窗口为 0：接收缓冲区已满";
    SrvPaused => "server thread paused", "服务线程已暂停";
    SrvFlowing => "recv() {}/s", "recv() {}/s";
    SrvStalls => "send() blocked {}", "send() 阻塞 {}";
    SrvReadRate => "Server thread {} read rate", "服务线程 {} 读取速度";
    SrvPause => "pause", "暂停";
    SrvResume => "resume", "继续";
    SrvMax => "max", "不限";
    SrvAccepted => "accept() returned client {} ({}); server thread {} started", "accept() 返回客户端 {}（{}）；服务线程 {} 已启动";
    SrvLeft => "client {} closed; its server thread's recv() returned 0 after {}, every byte verified, and the thread ended", "客户端 {} 已关闭；其服务线程的 recv() 在收到 {} 后返回 0，每个字节都已校验，线程结束";
    SrvLeftBadly => "client {} closed: {}", "客户端 {} 已关闭：{}";
    SrvAddFailed => "could not add a client: {}", "无法添加客户端：{}";
    // Events.
    EvStallStarted => "send() blocked", "send() 阻塞";
    EvStallEnded => "send() resumed ({} ms)", "send() 恢复（{} 毫秒）";
    EvWindowClosed => "window = 0", "窗口 = 0";
    EvWindowReopened => "window open", "窗口重新打开";
    EvCableUnplugged => "cable unplugged", "网线已拔掉";
    EvCablePlugged => "cable plugged in", "网线已插上";
    EvDelayStopped => "delay stopped", "延迟已停止";
    EvDelayFellBehind => "delay fell behind", "延迟跟不上";
    EvRetransmitTimeout => "timeout: sent again, RTO {} ms", "超时重传，RTO {} 毫秒";
    EvReaderPaused => "reader paused", "接收方暂停";
    EvReaderResumed => "reader resumed", "接收方恢复";
    EvPeerClosed => "recv() returned 0", "recv() 返回 0";
    EvAttFull => "send buffer full", "发送缓冲区已满";
    EvAttWritable => "writable again ({} ms)", "恢复可写（{} 毫秒）";
    EvLongAttFull => "the sender's socket is not writable: less memory is free than half of what its queue takes, so its program's send() sleeps or returns EAGAIN", "发送方套接字不可写：空闲内存不到队列所占内存的一半，所以它的程序调用 send() 会睡眠或返回 EAGAIN";
    EvLongAttWritable => "the sender's socket is writable again after {} ms", "发送方套接字在 {} 毫秒后恢复可写";
    EvConnectionClosed => "connection closed", "连接已关闭";
    EvPeerReset => "connection reset", "连接被重置";
    EvPeerGone => "send() failed: peer gone", "send() 失败：对端已断开";
    EvWriterFailed => "writer thread failed", "发送线程出错";
    EvReaderFailed => "reader thread failed", "接收线程出错";
    // The same events in one line (the log's hover text, record's output).
    EvLongStallStarted => "writer stalled: send() would block, the send buffer is full", "发送方停顿：send() 将会阻塞，发送缓冲区已满";
    EvLongStallEnded => "writer resumed after a {} ms stall", "发送方在停顿 {} 毫秒后恢复";
    EvLongWindowClosed => "window = 0: the reader advertises no room, the writer may send no data", "窗口 = 0：接收方通告没有空间，发送方不能再发送数据";
    EvLongWindowReopened => "window open again: the reader made room", "窗口重新打开：接收方腾出了空间";
    EvLongCableUnplugged => "the link's cable is unplugged: no segment gets through", "链路的网线已拔掉：没有任何报文段能通过";
    EvLongCablePlugged => "the link's cable is plugged in again", "链路的网线已重新插上";
    EvLongRetransmitTimeout => "no ACK within the timeout: the kernel sent the segment again and doubled its timeout to {} ms", "超时仍未收到 ACK：内核重传了报文段，并把超时时间加倍到 {} 毫秒";
    EvLongReaderPaused => "reader paused: no more recv() calls", "接收方暂停：不再调用 recv()";
    EvLongReaderResumed => "reader resumed recv()", "接收方恢复调用 recv()";
    EvLongPeerClosed => "peer closed: recv() returned 0 bytes", "对端已关闭：recv() 返回 0 字节";
    EvLongConnectionClosed => "connection closed: its program closed the socket, or the kernel freed it", "连接已关闭：它的程序关闭了套接字，或内核已释放它";
    EvLongPeerReset => "peer reset the connection (ECONNRESET): its kernel sent RST instead of FIN, as a kernel does when a socket is closed with bytes still unread (or with SO_LINGER 0); the peer has left", "对端重置了连接（ECONNRESET）：它的内核发送了 RST 而不是 FIN——套接字在还有未读数据时被关闭（或设置了 SO_LINGER 0）就会这样；对端已离开";
    EvLongPeerGone => "send() failed: the peer is gone (its kernel answered with RST, so send() gets ECONNRESET or EPIPE); the peer has left", "send() 失败：对端已不在（它的内核以 RST 回应，send() 因而得到 ECONNRESET 或 EPIPE）；对端已离开";
    EvLongWriterFailed => "the writer thread failed; the session ends", "发送线程出错；本次会话结束";
    EvLongReaderFailed => "the reader thread failed; the session ends", "接收线程出错；本次会话结束";
    SessionEnded => "The connection ended: {}. Press R for a new one.", "连接已结束：{}。按 R 建立新连接。";
    // Server window (owner thread).
    SrvBytesRead => "{} of {} bytes read", "已读取 {} / {} 字节";
    SrvFill => "{} / {}", "{} / {}";
    SrvKibPerSec => " KiB/s", " KiB/s";
    SrvUnset => "–", "–";
}

impl S {
    /// The string with `{}` replaced by `args` in order.
    pub fn fill(self, lang: Lang, args: &[&dyn Display]) -> String {
        let template = self.text(lang);
        let mut out = String::with_capacity(template.len() + 16);
        let mut args = args.iter();
        let mut rest = template;
        while let Some(at) = rest.find("{}") {
            out.push_str(&rest[..at]);
            if let Some(arg) = args.next() {
                out.push_str(&arg.to_string());
            }
            rest = &rest[at + 2..];
        }
        out.push_str(rest);
        out
    }
}

/// How many times, as a phrase: "once", "3 times"; "1 次", "3 次".
pub fn times(count: u64, lang: Lang) -> String {
    match count {
        1 => S::TimesOnce.text(lang).into(),
        n => S::TimesMany.fill(lang, &[&n]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_of_one_is_once_and_chinese_counts_with_ci() {
        assert_eq!(times(1, Lang::En), "once");
        assert_eq!(times(0, Lang::En), "0 times");
        assert_eq!(times(3, Lang::En), "3 times");
        assert_eq!(times(1, Lang::Zh), "1 次");
        assert_eq!(times(12, Lang::Zh), "12 次");
        // In the sentences that use it, with no "1 times" left.
        let full = S::AttWriterDetail.fill(Lang::En, &[&times(1, Lang::En)]);
        assert_eq!(full, "watched, read-only · send buffer full once");
        let zh = S::SrvStalls.fill(Lang::Zh, &[&times(2, Lang::Zh)]);
        assert_eq!(zh, "send() 阻塞 2 次");
        let syn = S::BacklogRefused.fill(Lang::Zh, &[&50123, &"SYN_SENT", &times(4, Lang::Zh)]);
        assert_eq!(
            syn,
            "客户端端口 50123：SYN_SENT，SYN 发了 4 次都没有应答：队列已满"
        );
        for key in S::ALL.iter().filter(|k| **k != S::TimesMany) {
            let en = key.text(Lang::En);
            assert!(
                !en.contains("{} times"),
                "{key:?} counts without times(): {en}"
            );
        }
    }

    #[test]
    fn time_units_are_words_of_the_language() {
        assert_eq!(S::Seconds.fill(Lang::En, &[&"1.5"]), "1.5 s");
        assert_eq!(S::Seconds.fill(Lang::Zh, &[&"1.5"]), "1.5 秒");
        assert_eq!(S::Minutes.fill(Lang::Zh, &[&5]), "5 分钟");
        assert_eq!(S::Millis.fill(Lang::Zh, &[&"0.250"]), "0.250 毫秒");
    }

    #[test]
    fn the_windows_no_netem_sentence_is_the_one_record_prints() {
        assert_eq!(S::NoNetem.text(Lang::En), crate::lab::link::NO_NETEM);
        assert_eq!(
            S::DelayStopped.text(Lang::En),
            crate::lab::link::DELAY_STOPPED
        );
    }

    #[test]
    fn every_string_exists_in_both_languages_with_the_same_placeholders() {
        for key in S::ALL {
            let (en, zh) = (key.text(Lang::En), key.text(Lang::Zh));
            assert!(!en.trim().is_empty() && !zh.trim().is_empty(), "{key:?}");
            assert_eq!(
                en.matches("{}").count(),
                zh.matches("{}").count(),
                "{key:?}"
            );
        }
        assert!(S::ALL.len() > 100);
    }

    #[test]
    fn fill_puts_values_in_order() {
        let text = S::SamplesSaved.fill(Lang::Zh, &[&12, &"/tmp/a.csv"]);
        assert_eq!(text, "12 个采样已保存到 /tmp/a.csv");
        assert_eq!(Lang::parse("zh"), Some(Lang::Zh));
        assert_eq!(Lang::parse("fr"), None);
    }
}
