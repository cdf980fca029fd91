//! A raw DNS client: one question to one server, UDP first and TCP when the answer is truncated,
//! CNAME chains followed. Every failure is a typed [`QueryError`], never a panic.

use crate::config::RecordKind;
use futures::StreamExt;
use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// Longest CNAME chain followed before giving up (loops end here too).
pub const MAX_CNAME_HOPS: usize = 8;

/// Why a question got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Nothing came back in time.
    #[error("no answer within {0} ms")]
    Timeout(u64),
    /// A socket failed.
    #[error("network error: {0}")]
    Network(String),
    /// The reply could not be parsed, or does not answer the question asked.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The CNAME chain is longer than [`MAX_CNAME_HOPS`] or loops.
    #[error("CNAME chain longer than {MAX_CNAME_HOPS} hops or looping at {0}")]
    CnameLoop(String),
    /// Not asked: in a batch, the server had already left this many questions in a row
    /// unanswered (a whole window's worth), so asking more would only wait out more timeouts.
    #[error("not asked: the server left the previous {0} questions unanswered")]
    GaveUp(usize),
}

/// Largest number of questions a batch keeps in flight on its socket.
pub const MAX_WINDOW: usize = 4096;

/// What one server said about one name and type, after following CNAMEs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// Response code of the last reply in the chain, e.g. `NOERROR`, `NXDOMAIN`, `SERVFAIL`.
    pub rcode: String,
    /// Whether the (last) reply carried the AA flag.
    pub authoritative: bool,
    /// The values of the asked type, in normalised presentation form.
    pub values: super::values::Values,
    /// Smallest TTL among those values (None when there are none).
    pub ttl: Option<u32>,
    /// CNAME targets followed, in order.
    pub chain: Vec<String>,
    /// True when some reply was truncated over UDP and fetched again over TCP.
    pub used_tcp: bool,
}

/// What a reply means for the question it answers.
enum Step {
    /// The answer is complete.
    Done,
    /// The CNAME chain leaves the reply: ask for this name next.
    Follow(Name),
}

/// How a batch left one question.
enum Outcome {
    /// Answered, or failed for good.
    Done(Result<Answer, QueryError>),
    /// Needs what only [`WireResolver::ask`] does: TCP after truncation, or a CNAME chain
    /// followed beyond the reply.
    AskAlone,
}

/// Idle connected UDP sockets kept per server; more are opened while more questions are in flight.
const MAX_IDLE_SOCKETS_PER_SERVER: usize = 256;

/// Sends questions with a fixed per-query timeout.
///
/// UDP sockets are connected to one server (so a closed port is reported as refused and only
/// that server's datagrams are read) and reused for later questions to it: a sweep of many
/// records then costs a send and a receive per question, not a socket's whole life. A late
/// reply to an earlier question on a reused socket is told apart by its id and dropped.
#[derive(Debug, Clone)]
pub struct WireResolver {
    timeout: Duration,
    idle: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<SocketAddr, Vec<tokio::net::UdpSocket>>>>,
}

/// The wire type of a record kind the config can declare.
pub fn record_type(kind: RecordKind) -> RecordType {
    match kind {
        RecordKind::A => RecordType::A,
        RecordKind::Aaaa => RecordType::AAAA,
        RecordKind::Cname => RecordType::CNAME,
        RecordKind::Mx => RecordType::MX,
        RecordKind::Txt => RecordType::TXT,
        RecordKind::Ns => RecordType::NS,
    }
}

/// A name in canonical form: lower case with the final dot.
pub fn canonical_name(name: &Name) -> String {
    let mut text = name.to_ascii().to_ascii_lowercase();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// The value of a record in the same form the declaration is normalised to.
pub fn presentation(data: &RData) -> Option<String> {
    Some(match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::CNAME(c) => canonical_name(&c.0),
        RData::NS(n) => canonical_name(&n.0),
        RData::MX(mx) => format!("{} {}", mx.preference, canonical_name(&mx.exchange)),
        RData::TXT(txt) => txt.txt_data.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect::<Vec<_>>().join(""),
        _ => return None,
    })
}

impl WireResolver {
    /// A resolver client whose every question gives up after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        WireResolver { timeout, idle: Default::default() }
    }

    /// An idle socket connected to `server`, or a new one.
    async fn checkout(&self, server: SocketAddr) -> Result<tokio::net::UdpSocket, QueryError> {
        if let Some(socket) = self.idle.lock().ok().and_then(|mut idle| idle.get_mut(&server)?.pop()) {
            return Ok(socket);
        }
        let local: SocketAddr = if server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let socket = tokio::net::UdpSocket::bind(local).await.map_err(|e| QueryError::Network(e.to_string()))?;
        socket.connect(server).await.map_err(|e| QueryError::Network(e.to_string()))?;
        Ok(socket)
    }

    /// Keeps a socket for the next question to `server`, up to the idle limit.
    fn checkin(&self, server: SocketAddr, socket: tokio::net::UdpSocket) {
        if let Ok(mut idle) = self.idle.lock() {
            let sockets = idle.entry(server).or_default();
            if sockets.len() < MAX_IDLE_SOCKETS_PER_SERVER {
                sockets.push(socket);
            }
        }
    }

    /// Asks `server` for `name`/`kind`, following CNAMEs (for other types than CNAME).
    pub async fn ask(&self, server: SocketAddr, name: &str, kind: RecordKind) -> Result<Answer, QueryError> {
        let deadline = Instant::now() + self.timeout;
        let wanted = record_type(kind);
        let mut current = Name::from_ascii(name).map_err(|e| QueryError::Malformed(format!("{name:?}: {e}")))?;
        let mut answer = Answer::default();
        let mut seen = BTreeSet::new();
        loop {
            let (reply, used_tcp) = self.exchange(server, &current, wanted, deadline).await?;
            answer.used_tcp |= used_tcp;
            match absorb(&reply, &current, wanted, &mut answer, &mut seen)? {
                Step::Done => return Ok(answer),
                Step::Follow(target) => current = target,
            }
        }
    }

    /// Asks `server` every question in `questions` over one connected UDP socket with up to
    /// `window` in flight, matching replies by id: a sweep's cost per question is then one send
    /// and one receive, with no task or wake-up of its own. Each question still gives up after
    /// the timeout from when it was sent. Once a whole window in a row went unanswered the
    /// rest are not asked ([`QueryError::GaveUp`]), so a dead server costs one timeout, not one
    /// per window. Truncated replies and CNAME chains that leave the reply are asked again alone
    /// with [`WireResolver::ask`]. Results are in the order of `questions`.
    pub async fn ask_all(&self, server: SocketAddr, questions: &[(String, RecordKind)], window: usize) -> Vec<Result<Answer, QueryError>> {
        let window = window.clamp(1, MAX_WINDOW);
        let mut results: Vec<Option<Result<Answer, QueryError>>> = vec![None; questions.len()];
        let mut alone = Vec::new();
        match self.checkout(server).await {
            Err(e) => return vec![Err(e); questions.len()],
            Ok(socket) => {
                let healthy = self.batch(&socket, questions, window, &mut results, &mut alone).await;
                if healthy {
                    self.checkin(server, socket);
                }
            }
        }
        let asked_alone: Vec<(usize, Result<Answer, QueryError>)> = futures::stream::iter(alone)
            .map(|i| async move {
                let (name, kind) = &questions[i];
                (i, self.ask(server, name, *kind).await)
            })
            .buffer_unordered(window)
            .collect()
            .await;
        for (i, result) in asked_alone {
            results[i] = Some(result);
        }
        results.into_iter().map(|r| r.unwrap_or_else(|| Err(QueryError::Network("the question was never sent".into())))).collect()
    }

    /// The pipelined part of [`WireResolver::ask_all`]; returns false when the socket failed.
    async fn batch(
        &self,
        socket: &tokio::net::UdpSocket,
        questions: &[(String, RecordKind)],
        window: usize,
        results: &mut [Option<Result<Answer, QueryError>>],
        alone: &mut Vec<usize>,
    ) -> bool {
        // Ids in the order sent, which is also the order their deadlines fall in.
        let mut in_flight: InFlight = HashMap::with_capacity_and_hasher(window, Default::default());
        let mut order: VecDeque<(u16, Instant)> = VecDeque::with_capacity(window);
        let (mut buf, mut query) = (vec![0u8; 4096], Vec::with_capacity(512));
        let (mut next, mut unanswered, mut healthy) = (0, 0, true);
        loop {
            // One clock reading per burst: a question's deadline may fall a little early, never late.
            let sent_at = Instant::now();
            while in_flight.len() < window && next < questions.len() {
                let i = next;
                next += 1;
                let (name, kind) = &questions[i];
                let wanted = record_type(*kind);
                let name = match Name::from_ascii(name) {
                    Ok(n) => n,
                    Err(e) => {
                        results[i] = Some(Err(QueryError::Malformed(format!("{name:?}: {e}"))));
                        continue;
                    }
                };
                // Random ids (hickory's), redrawn while one is taken by a question in flight.
                let mut id = Message::query().metadata.id;
                while in_flight.contains_key(&id) {
                    id = Message::query().metadata.id;
                }
                encode_query(&mut query, id, &name, wanted);
                match socket.send(&query).await {
                    Ok(_) => {
                        in_flight.insert(id, (i, name, wanted));
                        order.push_back((id, sent_at + self.timeout));
                    }
                    Err(e) => {
                        results[i] = Some(Err(QueryError::Network(e.to_string())));
                        next = fail_all(&e, &mut in_flight, &mut order, results, next);
                        healthy = false;
                    }
                }
            }
            // The oldest question still in flight sets the deadline; answered ones drop off.
            while order.front().is_some_and(|(id, _)| !in_flight.contains_key(id)) {
                order.pop_front();
            }
            let Some(&(_, deadline)) = order.front() else {
                if next < questions.len() {
                    continue;
                }
                return healthy;
            };
            // Replies already queued are read without arming a timer; only an empty socket waits.
            let received = match socket.try_recv(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await,
                other => Ok(other),
            };
            match received {
                Err(_) => {
                    let now = Instant::now();
                    while let Some(&(id, _)) = order.front().filter(|(_, due)| *due <= now) {
                        order.pop_front();
                        if let Some((i, _, _)) = in_flight.remove(&id) {
                            results[i] = Some(Err(QueryError::Timeout(self.timeout_ms())));
                            unanswered += 1;
                        }
                    }
                    if unanswered >= window {
                        for result in &mut results[next..] {
                            *result = Some(Err(QueryError::GaveUp(unanswered)));
                        }
                        next = questions.len();
                    }
                }
                Ok(Err(e)) => {
                    next = fail_all(&e, &mut in_flight, &mut order, results, next);
                    healthy = false;
                }
                Ok(Ok(n)) => {
                    // Replies to nothing in flight (late, or spoofed) are dropped unparsed.
                    let Some(id) = buf.get(..2).filter(|_| n >= 2).map(|b| u16::from_be_bytes([b[0], b[1]])) else { continue };
                    let Some((i, name, wanted)) = in_flight.remove(&id) else { continue };
                    unanswered = 0;
                    match settle(&buf[..n], &name, wanted) {
                        Outcome::Done(result) => results[i] = Some(result),
                        Outcome::AskAlone => alone.push(i),
                    }
                }
            }
        }
    }

    /// The SOA serial `server` publishes for `zone` (None when it has no SOA for it).
    pub async fn soa_serial(&self, server: SocketAddr, zone: &str) -> Result<Option<u32>, QueryError> {
        let deadline = Instant::now() + self.timeout;
        let name = Name::from_ascii(zone).map_err(|e| QueryError::Malformed(format!("{zone:?}: {e}")))?;
        let (reply, _) = self.exchange(server, &name, RecordType::SOA, deadline).await?;
        Ok(reply.answers.iter().find_map(|r| match &r.data {
            RData::SOA(soa) => Some(soa.serial),
            _ => None,
        }))
    }

    async fn exchange(&self, server: SocketAddr, name: &Name, kind: RecordType, deadline: Instant) -> Result<(Message, bool), QueryError> {
        let mut query = Message::query();
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(name.clone(), kind));
        let bytes = query.to_vec().map_err(|e| QueryError::Malformed(e.to_string()))?;
        let id = query.metadata.id;
        let reply = self.over_udp(server, &bytes, id, deadline).await?;
        if !reply.metadata.truncation {
            check(&reply, name, kind)?;
            return Ok((reply, false));
        }
        let reply = self.over_tcp(server, &bytes, id, deadline).await?;
        check(&reply, name, kind)?;
        Ok((reply, true))
    }

    fn timeout_ms(&self) -> u64 {
        self.timeout.as_millis() as u64
    }

    async fn over_udp(&self, server: SocketAddr, bytes: &[u8], id: u16, deadline: Instant) -> Result<Message, QueryError> {
        let socket = self.checkout(server).await?;
        let outcome = self.exchange_udp(&socket, bytes, id, deadline).await;
        // A socket that failed at the socket level is closed; any other goes back for reuse.
        if !matches!(outcome, Err(QueryError::Network(_))) {
            self.checkin(server, socket);
        }
        outcome
    }

    async fn exchange_udp(&self, socket: &tokio::net::UdpSocket, bytes: &[u8], id: u16, deadline: Instant) -> Result<Message, QueryError> {
        socket.send(bytes).await.map_err(|e| QueryError::Network(e.to_string()))?;
        let mut buf = [0u8; 4096];
        loop {
            let received = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await;
            let n = match received {
                Err(_) => return Err(QueryError::Timeout(self.timeout_ms())),
                Ok(Err(e)) => return Err(QueryError::Network(e.to_string())),
                Ok(Ok(n)) => n,
            };
            // A reply to some other question (late, for an earlier user of this socket, or
            // spoofed) is ignored by its id before it is parsed, not trusted.
            if n < 2 || u16::from_be_bytes([buf[0], buf[1]]) != id {
                continue;
            }
            return Message::from_vec(&buf[..n]).map_err(|e| QueryError::Malformed(e.to_string()));
        }
    }

    async fn over_tcp(&self, server: SocketAddr, bytes: &[u8], id: u16, deadline: Instant) -> Result<Message, QueryError> {
        let timeout = QueryError::Timeout(self.timeout_ms());
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(server).await.map_err(|e| QueryError::Network(e.to_string()))?;
            let mut framed = Vec::with_capacity(bytes.len() + 2);
            framed.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            framed.extend_from_slice(bytes);
            stream.write_all(&framed).await.map_err(|e| QueryError::Network(e.to_string()))?;
            let length = stream.read_u16().await.map_err(|e| QueryError::Network(e.to_string()))?;
            let mut buf = vec![0u8; length as usize];
            stream.read_exact(&mut buf).await.map_err(|e| QueryError::Network(e.to_string()))?;
            let reply = Message::from_vec(&buf).map_err(|e| QueryError::Malformed(e.to_string()))?;
            if reply.metadata.id != id {
                return Err(QueryError::Malformed(format!("reply id {} does not match query id {id}", reply.metadata.id)));
            }
            Ok(reply)
        };
        tokio::time::timeout_at(deadline, exchange).await.map_err(|_| timeout)?
    }
}

/// Writes a standard query for `name`/`kind` with `id`, recursion desired, into `out`
/// (RFC 1035 4.1: the header and one question, no EDNS): the bytes hickory's encoder writes for
/// such a query (a test holds them equal), without its allocations, since a sweep writes one
/// per question.
pub fn encode_query(out: &mut Vec<u8>, id: u16, name: &Name, kind: RecordType) {
    out.clear();
    out.extend_from_slice(&id.to_be_bytes());
    // Flags: a query with RD set; counts: one question, no records.
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.iter() {
        // Labels are at most 63 bytes: `Name` refuses longer ones.
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.push(0);
    out.extend_from_slice(&u16::from(kind).to_be_bytes());
    out.extend_from_slice(&u16::from(hickory_proto::rr::DNSClass::IN).to_be_bytes());
}

/// A batch's questions in flight by id: (question, name asked, type asked).
type InFlight = HashMap<u16, (usize, Name, RecordType), std::hash::BuildHasherDefault<IdHasher>>;

/// Hashes a DNS id by one multiplication: ids are random already, and a batch looks one up for
/// every reply, where SipHash showed in profiles.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u16(&mut self, id: u16) {
        // Spread into the high bits too: the table uses them to tell entries apart.
        self.0 = u64::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A socket-level error in a batch (the kernel's port unreachable, reported on whichever send
/// or receive comes next) is about the server, not one question: it becomes the answer of every
/// question in flight, and the rest are not asked. Returns the new `next` (past the end).
fn fail_all(
    error: &std::io::Error,
    in_flight: &mut InFlight,
    order: &mut VecDeque<(u16, Instant)>,
    results: &mut [Option<Result<Answer, QueryError>>],
    next: usize,
) -> usize {
    for (_, (i, _, _)) in in_flight.drain() {
        results[i] = Some(Err(QueryError::Network(error.to_string())));
    }
    order.clear();
    for result in &mut results[next..] {
        *result = Some(Err(QueryError::Network(format!("not asked: {error} on an earlier question"))));
    }
    results.len()
}

/// What one reply says about `name`/`wanted`, as the engine reads it: the answer, or `None`
/// when the reply sends the engine to ask again on its own (truncated, or a CNAME chain that
/// leaves the reply). Public for the fuzz target: any bytes a server sends come through here.
pub fn read_reply(bytes: &[u8], name: &Name, wanted: RecordType) -> Result<Option<Answer>, QueryError> {
    match settle(bytes, name, wanted) {
        Outcome::Done(result) => result.map(Some),
        Outcome::AskAlone => Ok(None),
    }
}

/// Reads a reply a batch received for `name`/`wanted`.
fn settle(bytes: &[u8], name: &Name, wanted: RecordType) -> Outcome {
    let reply = match Message::from_vec(bytes) {
        Ok(reply) => reply,
        Err(e) => return Outcome::Done(Err(QueryError::Malformed(e.to_string()))),
    };
    if reply.metadata.truncation {
        return Outcome::AskAlone;
    }
    if let Err(e) = check(&reply, name, wanted) {
        return Outcome::Done(Err(e));
    }
    let mut answer = Answer::default();
    match absorb(&reply, name, wanted, &mut answer, &mut BTreeSet::new()) {
        Ok(Step::Done) => Outcome::Done(Ok(answer)),
        Ok(Step::Follow(_)) => Outcome::AskAlone,
        Err(e) => Outcome::Done(Err(e)),
    }
}

/// Takes what `reply` says about `current` into `answer`: rcode, AA flag, the values of the
/// wanted type along the CNAME chain inside the reply; says whether to follow the chain out.
fn absorb(
    reply: &Message,
    current: &Name,
    wanted: RecordType,
    answer: &mut Answer,
    seen: &mut BTreeSet<String>,
) -> Result<Step, QueryError> {
    answer.rcode = rcode_text(reply.metadata.response_code);
    answer.authoritative = reply.metadata.authoritative;
    // Walk the answer section along the chain: records for `current`, then its target.
    let mut owner = current.clone();
    for _ in 0..=MAX_CNAME_HOPS {
        let mut target_of_owner = None;
        for record in reply.answers.iter().filter(|r| r.name == owner) {
            if record.record_type() == wanted {
                if let Some(value) = presentation(&record.data) {
                    answer.values.insert(value);
                    answer.ttl = Some(answer.ttl.map_or(record.ttl, |t| t.min(record.ttl)));
                }
            } else if let RData::CNAME(target) = &record.data {
                target_of_owner = Some(target.0.clone());
            }
        }
        let Some(target) = target_of_owner else { break };
        if !seen.insert(canonical_name(&owner)) {
            return Err(QueryError::CnameLoop(canonical_name(&owner)));
        }
        answer.chain.push(canonical_name(&target));
        owner = target;
    }
    if answer.values.is_empty() && owner != *current && reply.metadata.response_code == ResponseCode::NoError {
        // The chain leaves the reply (an out-of-zone target): ask for the target itself.
        if answer.chain.len() > MAX_CNAME_HOPS {
            return Err(QueryError::CnameLoop(canonical_name(&owner)));
        }
        return Ok(Step::Follow(owner));
    }
    Ok(Step::Done)
}

/// The reply must be a response to the question asked.
fn check(reply: &Message, name: &Name, kind: RecordType) -> Result<(), QueryError> {
    if reply.metadata.message_type != MessageType::Response {
        return Err(QueryError::Malformed("the reply is not a response".into()));
    }
    match reply.queries.first() {
        Some(q) if q.name() == name && q.query_type() == kind => Ok(()),
        Some(q) => Err(QueryError::Malformed(format!("the reply answers {} {} instead of {name} {kind}", q.name(), q.query_type()))),
        // Some servers omit the question in error replies; the id already matched.
        None => Ok(()),
    }
}

fn rcode_text(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        other => other.to_string().to_ascii_uppercase(),
    }
}
