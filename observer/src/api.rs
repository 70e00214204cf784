//! The JSON API behind the page (documented in `docs/observability.md`).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rotp_runtime::{
    Handle, PendingSystem, Pid, ProcessInfo, Status, SystemError, SystemReply, SystemRequest,
    SystemStatus,
};

use crate::http::{Request, Response};
use crate::json::Json;
use crate::sampler::History;

/// How long one API request waits, in all, for processes to answer status
/// requests: a busy process is shown without its summary rather than
/// holding the page up.
const STATUS_BUDGET: Duration = Duration::from_millis(150);

/// How long an action (kill, suspend, resume) waits for its answer.
const ACTION_TIMEOUT: Duration = Duration::from_secs(2);

/// The default and largest number of rows of `/api/processes`.
const DEFAULT_LIMIT: usize = 1000;
const MAX_LIMIT: usize = 10_000;

/// Deepest supervision tree rendered (a bound, not a limit anyone meets).
const MAX_DEPTH: usize = 64;

pub(crate) struct Api<'a> {
    pub(crate) handle: &'a Handle,
    pub(crate) history: &'a Mutex<History>,
    pub(crate) exits: &'a crate::exits::Exits,
    pub(crate) actions: bool,
}

impl Api<'_> {
    pub(crate) fn route(&self, req: &Request) -> Response {
        let path = req.path.as_str();
        match (req.method.as_str(), path) {
            ("GET", "/") | ("GET", "/index.html") => Response::html(crate::page::PAGE),
            ("GET", "/api/processes") => self.processes(req),
            ("GET", "/api/tree") => self.tree(),
            ("GET", "/api/schedulers") => self.schedulers(),
            ("GET", "/api/names") => self.names(),
            ("GET", "/api/exits") => self.exits(),
            ("GET", "/api/options") => self.options(),
            ("GET", p) if p.starts_with("/api/process/") => {
                match parse_pid(&p["/api/process/".len()..]) {
                    Some(pid) => self.process(pid),
                    None => Response::error(400, "not a pid"),
                }
            }
            ("POST", p) if p.starts_with("/api/process/") => self.action(req, p),
            (_, "/") | (_, "/api/processes") | (_, "/api/tree") | (_, "/api/schedulers") => {
                Response::error(405, "method not allowed")
            }
            _ => Response::error(404, "not found"),
        }
    }

    fn options(&self) -> Response {
        let mut j = Json::new();
        j.open_object()
            .key("actions")
            .bool(self.actions)
            .field_u64("workers", self.handle.workers() as u64)
            .close_object();
        Response::json(j.finish())
    }

    /// `GET /api/processes?sort=mailbox|reductions|memory&limit=N`
    fn processes(&self, req: &Request) -> Response {
        let sort = req.query("sort").unwrap_or("reductions");
        let limit = match req.query("limit").map(str::parse::<usize>) {
            None => DEFAULT_LIMIT,
            Some(Ok(n)) => n.min(MAX_LIMIT),
            Some(Err(_)) => return Response::error(400, "limit must be a number"),
        };
        let mut infos = self.infos();
        let key = |i: &ProcessInfo| -> u64 {
            match sort {
                "mailbox" => i.mailbox_len as u64,
                "memory" => i.memory as u64,
                _ => i.reductions,
            }
        };
        if !matches!(sort, "mailbox" | "memory" | "reductions") {
            return Response::error(400, "sort must be mailbox, reductions or memory");
        }
        infos.sort_by(|a, b| key(b).cmp(&key(a)).then(a.pid.cmp(&b.pid)));
        let total = infos.len();
        infos.truncate(limit);
        let statuses = self.statuses(infos.iter().map(|i| i.pid));
        let mut j = Json::new();
        j.open_object()
            .field_u64("total", total as u64)
            .field_str("sort", sort)
            .key("processes")
            .open_array();
        for info in &infos {
            j.open_object();
            info_fields(&mut j, info);
            j.key("summary")
                .opt_str(statuses.get(&info.pid).map(|s| s.state.as_str()));
            j.key("suspended")
                .bool(statuses.get(&info.pid).is_some_and(|s| s.suspended));
            j.close_object();
        }
        j.close_array().close_object();
        Response::json(j.finish())
    }

    /// `GET /api/tree`: every supervision tree, root supervisors first.
    fn tree(&self) -> Response {
        let infos = self.infos();
        let by_pid: HashMap<Pid, &ProcessInfo> = infos.iter().map(|i| (i.pid, i)).collect();
        let sups: Vec<Pid> = infos
            .iter()
            .filter(|i| i.behaviour == "supervisor")
            .map(|i| i.pid)
            .collect();
        let statuses = self.statuses(sups.iter().copied());
        let supervised: HashSet<Pid> = statuses
            .values()
            .flat_map(|s| s.children.iter().filter_map(|c| c.pid))
            .collect();
        let mut j = Json::new();
        j.open_object().key("roots").open_array();
        for &sup in sups.iter().filter(|p| !supervised.contains(p)) {
            let mut seen = HashSet::new();
            tree_node(&mut j, sup, None, &by_pid, &statuses, &mut seen, 0);
        }
        j.close_array().close_object();
        Response::json(j.finish())
    }

    /// `GET /api/schedulers`
    fn schedulers(&self) -> Response {
        let stats = self.handle.stats();
        let history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let mut j = Json::new();
        j.open_object()
            .field_u64("workers", stats.workers.len() as u64)
            .field_u64("interval_ms", history.interval.as_millis() as u64)
            .field_u64("keep", history.keep as u64)
            .key("stats")
            .open_object()
            .field_u64("processes", stats.processes as u64)
            .field_u64("spawned", stats.spawned)
            .field_u64("exited", stats.exited)
            .field_u64("messages", stats.messages)
            .field_u64("long_schedules", stats.long_schedules)
            .field_u64("spare_threads", stats.spare_threads as u64)
            .field_u64("sleeping", stats.sleeping as u64)
            .field_u64("timers", stats.timers as u64)
            .close_object()
            .key("samples")
            .open_array();
        for s in &history.samples {
            j.open_object().key("t").f64(s.at);
            j.key("utilisation").open_array();
            for &u in &s.utilisation {
                j.f64(u);
            }
            j.close_array().key("rates").open_array();
            for &r in &s.rates {
                j.f64(r);
            }
            j.close_array()
                .field_u64("processes", s.processes as u64)
                .close_object();
        }
        j.close_array().close_object();
        Response::json(j.finish())
    }

    /// `GET /api/names`
    fn names(&self) -> Response {
        let mut names = self.handle.registered();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let mut j = Json::new();
        j.open_object().key("names").open_array();
        for (name, pid) in &names {
            j.open_object()
                .field_str("name", name.as_str())
                .field_str("pid", &pid.to_string())
                .field_str("id", &pid_id(*pid))
                .close_object();
        }
        j.close_array().close_object();
        Response::json(j.finish())
    }

    /// `GET /api/exits`: the last abnormal exits, newest first.
    fn exits(&self) -> Response {
        let exits = self.exits.lock().unwrap_or_else(|e| e.into_inner());
        let mut j = Json::new();
        j.open_object().key("exits").open_array();
        for e in exits.iter().rev() {
            j.open_object()
                .key("t")
                .f64(e.at)
                .field_str("pid", &e.pid.to_string())
                .field_str("id", &pid_id(e.pid))
                .key("name")
                .opt_str(e.name.as_deref())
                .field_str("type", &e.type_name)
                .field_str("reason", &e.reason)
                .close_object();
        }
        j.close_array().close_object();
        Response::json(j.finish())
    }

    /// `GET /api/process/<pid>`
    fn process(&self, pid: Pid) -> Response {
        let Some(info) = self.handle.process_info(pid) else {
            return Response::error(404, "no such process");
        };
        let status = self
            .handle
            .system_request(pid, SystemRequest::Status)
            .and_then(|p| p.wait(Duration::from_millis(500)));
        let mut j = Json::new();
        j.open_object();
        info_fields(&mut j, &info);
        j.field_u64("handled", info.handled)
            .field_str("parent", &info.parent.to_string())
            .key("trap_exit")
            .bool(info.trap_exit);
        j.key("current_handler_ms");
        match info.current_handler_time {
            Some(t) => j.f64(t.as_secs_f64() * 1000.0),
            None => j.null(),
        };
        for (key, pids) in [
            ("links", &info.links),
            ("monitors", &info.monitors),
            ("monitored_by", &info.monitored_by),
        ] {
            j.key(key).open_array();
            for p in pids {
                pid_ref(&mut j, self.handle, *p);
            }
            j.close_array();
        }
        j.key("status");
        match status {
            Ok(SystemReply::Status(s)) => status_json(&mut j, &s),
            Ok(_) => {
                j.null();
            }
            Err(e) => {
                j.open_object()
                    .field_str("error", &e.to_string())
                    .close_object();
            }
        }
        j.key("actions").bool(self.actions);
        j.close_object();
        Response::json(j.finish())
    }

    /// `POST /api/process/<pid>/kill|suspend|resume`, when enabled.
    fn action(&self, req: &Request, path: &str) -> Response {
        if !self.actions {
            return Response::error(403, "actions are disabled (ObserverOptions::allow_actions)");
        }
        // A cross-site form cannot set this header; a page of ours can.
        if req.header("x-rotp-observer") != Some("action") {
            return Response::error(403, "missing X-Rotp-Observer: action header");
        }
        let rest = &path["/api/process/".len()..];
        let Some((pid, verb)) = rest.rsplit_once('/') else {
            return Response::error(404, "not found");
        };
        let Some(pid) = parse_pid(pid) else {
            return Response::error(400, "not a pid");
        };
        if !self.handle.is_alive(pid) {
            return Response::error(404, "no such process");
        }
        let result = match verb {
            "kill" => {
                self.handle.kill(pid);
                Ok(())
            }
            "suspend" => self.handle.suspend(pid, ACTION_TIMEOUT),
            "resume" => self.handle.resume(pid, ACTION_TIMEOUT),
            _ => return Response::error(404, "unknown action"),
        };
        match result {
            Ok(()) => Response::json("{\"ok\":true}".to_owned()),
            Err(SystemError::NotSupported) => {
                Response::error(400, "this kind of process does not support it")
            }
            Err(e) => Response::error(503, &e.to_string()),
        }
    }

    fn infos(&self) -> Vec<ProcessInfo> {
        self.handle
            .processes()
            .into_iter()
            .filter_map(|p| self.handle.process_info(p))
            .collect()
    }

    /// Asks every process in `pids` for its status at once, then collects
    /// what arrives within [`STATUS_BUDGET`].
    fn statuses(&self, pids: impl Iterator<Item = Pid>) -> HashMap<Pid, SystemStatus> {
        let pending: Vec<PendingSystem> = pids
            .filter_map(|p| self.handle.system_request(p, SystemRequest::Status).ok())
            .collect();
        let deadline = Instant::now() + STATUS_BUDGET;
        let mut out = HashMap::with_capacity(pending.len());
        for p in pending {
            let pid = p.pid();
            let left = deadline.saturating_duration_since(Instant::now());
            let reply = match p.try_recv() {
                Some(r) => r,
                None if left.is_zero() => continue,
                None => p.wait(left),
            };
            if let Ok(SystemReply::Status(s)) = reply {
                out.insert(pid, s);
            }
        }
        out
    }
}

/// The pid as it appears in URLs: `0.42.1`.
pub(crate) fn pid_id(pid: Pid) -> String {
    let s = pid.to_string();
    s.trim_start_matches('<').trim_end_matches('>').to_owned()
}

fn parse_pid(s: &str) -> Option<Pid> {
    s.parse().ok().filter(|p: &Pid| !p.is_root())
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Running => "running",
        Status::Runnable => "runnable",
        Status::Waiting => "waiting",
        Status::Exiting => "exiting",
        _ => "other",
    }
}

/// The fields every process row has.
fn info_fields(j: &mut Json, info: &ProcessInfo) {
    j.field_str("pid", &info.pid.to_string())
        .field_str("id", &pid_id(info.pid))
        .key("name")
        .opt_str(info.name.as_ref().map(|n| n.as_str()))
        .field_str("behaviour", info.behaviour)
        .field_str("type", info.type_name)
        .field_str("status", status_name(info.status))
        .field_u64("mailbox", info.mailbox_len as u64)
        .field_u64("reductions", info.reductions)
        .field_u64("memory", info.memory as u64);
}

/// `{"pid", "id", "name"}` of another process.
fn pid_ref(j: &mut Json, handle: &Handle, pid: Pid) {
    j.open_object()
        .field_str("pid", &pid.to_string())
        .field_str("id", &pid_id(pid))
        .key("name")
        .opt_str(handle.name_of(pid).as_ref().map(|n| n.as_str()))
        .close_object();
}

fn status_json(j: &mut Json, s: &SystemStatus) {
    j.open_object()
        .field_str("behaviour", s.behaviour)
        .field_str("state", &s.state)
        .key("suspended")
        .bool(s.suspended)
        .key("details")
        .open_array();
    for (k, v) in &s.details {
        j.open_array().str(k).str(v).close_array();
    }
    j.close_array().close_object();
}

fn detail<'a>(s: &'a SystemStatus, key: &str) -> Option<&'a str> {
    s.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// One supervisor and, recursively, its children.
fn tree_node(
    j: &mut Json,
    pid: Pid,
    child: Option<&rotp_runtime::SupervisedChild>,
    infos: &HashMap<Pid, &ProcessInfo>,
    statuses: &HashMap<Pid, SystemStatus>,
    seen: &mut HashSet<Pid>,
    depth: usize,
) {
    let info = infos.get(&pid);
    let status = statuses.get(&pid);
    j.open_object()
        .field_str("pid", &pid.to_string())
        .field_str("id", &pid_id(pid))
        .key("name")
        .opt_str(info.and_then(|i| i.name.as_ref()).map(|n| n.as_str()))
        .key("type")
        .opt_str(info.map(|i| i.type_name))
        .key("behaviour")
        .opt_str(info.map(|i| i.behaviour));
    if let Some(c) = child {
        j.key("child_id")
            .opt_str(c.id.as_deref())
            .field_str("status", c.status)
            .field_str("restart", c.restart)
            .field_u64("restarts", c.restarts)
            .key("supervisor")
            .bool(c.supervisor);
    }
    if let Some(s) = status.filter(|_| seen.insert(pid) && depth < MAX_DEPTH) {
        j.key("strategy")
            .opt_str(detail(s, "strategy"))
            .key("intensity")
            .opt_str(detail(s, "intensity"))
            .field_u64(
                "total_restarts",
                detail(s, "restarts")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0),
            )
            .key("children")
            .open_array();
        for c in &s.children {
            match c.pid {
                Some(p) => tree_node(j, p, Some(c), infos, statuses, seen, depth + 1),
                None => {
                    // Not running: its id and state only.
                    j.open_object()
                        .key("pid")
                        .null()
                        .key("child_id")
                        .opt_str(c.id.as_deref())
                        .field_str("status", c.status)
                        .field_str("restart", c.restart)
                        .field_u64("restarts", c.restarts)
                        .key("supervisor")
                        .bool(c.supervisor)
                        .close_object();
                }
            }
        }
        j.close_array();
    }
    j.close_object();
}
