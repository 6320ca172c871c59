//! Processes gdctl started and must not leave behind: a profile's
//! `credential_process`, which the SDK runs as `sh -c COMMAND` in gdctl's own
//! process group (so that group cannot be signalled without gdctl), and
//! which may itself start others.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// How long the processes get to end on SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_millis(500);

/// End every process descended from gdctl, the whole tree at once (found
/// before any is signalled: a child killed first would hand its own children
/// to init, out of reach): SIGTERM, then SIGKILL for those still there after
/// a short grace. Returns how many there were.
pub fn end_descendants() -> usize {
    #[cfg(unix)]
    {
        let tree = descendants(std::process::id(), &processes());
        if tree.is_empty() {
            return 0;
        }
        tracing::debug!(pids = ?tree, "ending the processes gdctl started");
        signal(&tree, libc::SIGTERM);
        let until = Instant::now() + GRACE;
        while Instant::now() < until && tree.iter().any(|pid| alive(*pid)) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let left: Vec<u32> = tree.iter().copied().filter(|pid| alive(*pid)).collect();
        signal(&left, libc::SIGKILL);
        tree.len()
    }
    #[cfg(not(unix))]
    {
        0
    }
}

/// Every process below `root` in a list of (pid, parent pid): the whole
/// subtree, `root` itself left out.
pub fn descendants(root: u32, processes: &[(u32, u32)]) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(pid, ppid) in processes {
        children.entry(ppid).or_default().push(pid);
    }
    let mut found = BTreeSet::new();
    let mut todo = vec![root];
    while let Some(parent) = todo.pop() {
        for &child in children.get(&parent).into_iter().flatten() {
            // A cycle cannot happen in a real table; a racy read must not loop.
            if child != root && found.insert(child) {
                todo.push(child);
            }
        }
    }
    found.into_iter().collect()
}

/// The running processes as (pid, parent pid).
#[cfg(target_os = "linux")]
fn processes() -> Vec<(u32, u32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Some((pid, parse_stat(&stat)?.1))
    })
    .collect()
}

/// Elsewhere, what `ps` lists (itself left out).
#[cfg(all(unix, not(target_os = "linux")))]
fn processes() -> Vec<(u32, u32)> {
    let Ok(child) = std::process::Command::new("ps")
        .args(["-A", "-o", "pid=", "-o", "ppid="])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return Vec::new();
    };
    let ps = child.id();
    let Ok(out) = child.wait_with_output() else { return Vec::new() };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().map(|f| f.parse::<u32>().ok());
            Some((fields.next()??, fields.next()??))
        })
        .filter(|(pid, _)| *pid != ps)
        .collect()
}

/// `/proc/PID/stat`: `PID (COMMAND) STATE PPID ...`; the command may hold
/// spaces and parentheses, so the fields are read after its last `)`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_stat(stat: &str) -> Option<(char, u32)> {
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Still running: present and not a zombie (which only waits to be reaped).
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
            .is_some_and(|(state, _)| !matches!(state, 'Z' | 'X'))
    }
    #[cfg(not(target_os = "linux"))]
    {
        unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
    }
}

#[cfg(unix)]
fn signal(pids: &[u32], signal: libc::c_int) {
    for &pid in pids {
        // One that has ended meanwhile is ESRCH: nothing to do.
        unsafe { libc::kill(pid as libc::pid_t, signal) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_subtree_and_nothing_else() {
        let table = [(1, 0), (10, 1), (11, 10), (12, 11), (13, 10), (20, 1), (21, 20), (14, 13)];
        assert_eq!(descendants(10, &table), [11, 12, 13, 14]);
        assert_eq!(descendants(12, &table), Vec::<u32>::new());
        assert_eq!(descendants(99, &table), Vec::<u32>::new());
        // A table read while processes come and go may hold nonsense.
        assert_eq!(descendants(5, &[(6, 5), (5, 6)]), [6]);
    }

    #[test]
    fn stat_lines_are_read_after_the_command() {
        assert_eq!(parse_stat("4242 (sleep) S 4241 4242 1 0 -1"), Some(('S', 4241)));
        assert_eq!(parse_stat("7 (a) b (c)) Z 1 7 7"), Some(('Z', 1)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_child_and_its_own_child_are_found() {
        // sh, and the sleep it starts (not exec'd: a grandchild).
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 300; :"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let sh = child.id();
        // The sleep shows up once sh has forked it: wait for that effect.
        let deadline = Instant::now() + Duration::from_secs(10);
        let sleep = loop {
            if let Some(&pid) = descendants(sh, &processes()).first() {
                break pid;
            }
            assert!(Instant::now() < deadline, "sh started no sleep");
            std::thread::yield_now();
        };
        let tree = descendants(std::process::id(), &processes());
        signal(&[sh, sleep], libc::SIGKILL);
        child.wait().unwrap();
        assert!(tree.contains(&sh) && tree.contains(&sleep), "{tree:?}");
        // The kill takes effect, then the sleep is a zombie or gone: wait for that.
        let until = Instant::now() + Duration::from_secs(10);
        while alive(sleep) && Instant::now() < until {
            std::thread::yield_now();
        }
        assert!(!alive(sleep));
    }
}
