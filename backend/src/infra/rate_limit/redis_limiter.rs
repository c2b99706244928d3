//! The Redis limiter: [`Gcra::apply`] as Lua scripts run atomically by Redis on its own
//! clock (`TIME`), so every node shares one clock and one bucket per key. Each script
//! mirrors the Rust code it names; change both together.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{Script, ScriptInvocation};

use super::super::{Admission, InfraError, SignedUse, expiry_ms, micros, replay_cache};
use super::{BanPolicy, BucketKeys, Decision, Gcra, Quota, RateLimiter, Verdict};

/// `Gcra::apply` in Lua, plus the shared clock. Each returns what `Gcra::apply` decides:
/// allowed (0/1), free cells, retry_after and reset_after (µs).
const GCRA_LUA: &str = r"
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- Numbers go to redis.call as numbers: tostring() would round them to 14 digits.
local function gcra(key, now, emission, capacity, cost)
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local new_tat = tat + math.max(cost, 1) * emission
  local allow_at = new_tat - capacity
  if now < allow_at then
    return 0, math.floor(math.max(capacity - (tat - now), 0) / emission), allow_at - now, tat - now
  end
  if cost == 0 then
    return 1, math.floor(math.max(capacity - (tat - now), 0) / emission), 0, tat - now
  end
  redis.call('SET', key, new_tat, 'PX', math.max(math.ceil((new_tat - now) / 1000), 1))
  return 1, math.floor(math.max(capacity - (new_tat - now), 0) / emission), 0, new_tat - now
end
";

/// KEYS: TAT. ARGV: emission (µs), capacity (µs), cost.
const ACQUIRE_LUA: &str = r"
local allowed, free, retry_after, reset_after =
  gcra(KEYS[1], now_us(), tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
return {allowed, free, retry_after, reset_after}
";

/// KEYS: TAT, rejection counter, banned-until, ban count. ARGV: emission (µs), capacity (µs),
/// max rejections, window (ms), base ban (µs), max ban (µs), ban-count memory (ms).
/// Returns {verdict (0 allowed, 1 limited, 2 banned), free cells, retry_after, reset_after}.
const GUARDED_LUA: &str = r"
local now = now_us()
local banned_until = tonumber(redis.call('GET', KEYS[3]))
if banned_until and banned_until > now then
  return {2, 0, banned_until - now, 0}
end
local allowed, free, retry_after, reset_after =
  gcra(KEYS[1], now, tonumber(ARGV[1]), tonumber(ARGV[2]), 1)
if allowed == 1 then
  return {0, free, retry_after, reset_after}
end
local rejections = redis.call('INCR', KEYS[2])
if rejections == 1 then
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
end
if rejections <= tonumber(ARGV[3]) then
  return {1, free, retry_after, reset_after}
end
local previous = tonumber(redis.call('GET', KEYS[4])) or 0
local base_ban, max_ban = tonumber(ARGV[5]), tonumber(ARGV[6])
local ban = base_ban
for _ = 1, previous do
  if ban >= max_ban then break end
  ban = ban * 2
end
ban = math.min(ban, max_ban)
redis.call('SET', KEYS[3], now + ban, 'PX', math.max(math.ceil(ban / 1000), 1))
redis.call('SET', KEYS[4], previous + 1, 'PX', tonumber(ARGV[7]))
redis.call('DEL', KEYS[2])
return {2, 0, ban, 0}
";

/// Put before `FIRST_USE_LUA`. KEYS[6]: a gate bucket's TAT; ARGV[9], ARGV[10]: its
/// emission and capacity (µs). An empty gate ends the script with verdict 4, peeked
/// (nothing stored), before anything is counted.
const GATE_LUA: &str = r"
local gate_allowed, gate_free, gate_retry_after, gate_reset_after =
  gcra(KEYS[6], now_us(), tonumber(ARGV[9]), tonumber(ARGV[10]), 0)
if gate_allowed == 0 then
  return {4, gate_free, gate_retry_after, gate_reset_after}
end
";

/// Put before `GUARDED_LUA`. KEYS[5]: a replay-cache key; ARGV[8]: its expiry (ms). A key
/// that is already set ends the script with verdict 3 before anything is counted.
const FIRST_USE_LUA: &str = r"
if not redis.call('SET', KEYS[5], 1, 'NX', 'PX', tonumber(ARGV[8])) then
  return {3, 0, 0, 0}
end
";

/// The production limiter: one atomic script per call, clocked by Redis `TIME`.
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    prefix: String,
    acquire_script: Script,
    guarded_script: Script,
    admit_script: Script,
}

impl RedisRateLimiter {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            acquire_script: Script::new(&[GCRA_LUA, ACQUIRE_LUA].concat()),
            guarded_script: Script::new(&[GCRA_LUA, GUARDED_LUA].concat()),
            admit_script: Script::new(&[GCRA_LUA, GATE_LUA, FIRST_USE_LUA, GUARDED_LUA].concat()),
        }
    }

    /// [`Infra::admit`](super::Infra::admit) on Redis: the gate, the replay cache's
    /// `first_use` and [`RateLimiter::acquire_guarded`], atomically and in one round trip.
    pub async fn admit(&self, request: &SignedUse<'_>) -> Result<Admission, InfraError> {
        let gcra = Gcra::new(request.quota);
        let gate = Gcra::new(request.gate_quota);
        let reply: Vec<u64> = self
            .guarded_call(&self.admit_script, gcra, request.limit_key, request.ban)
            .key(replay_cache::redis_key(&self.prefix, request.replay_key))
            .key(BucketKeys::new(&self.prefix, request.gate_key).tat)
            .arg(expiry_ms(micros(request.replay_ttl)))
            .arg(gate.emission_us)
            .arg(gate.capacity_us)
            .invoke_async(&mut self.conn.clone())
            .await?;
        match script_reply(reply)? {
            [4, free, retry_after, reset_after] => Ok(Admission::Gated(gate.decision(
                false,
                free,
                retry_after,
                reset_after,
            ))),
            [3, ..] => Ok(Admission::Replayed),
            reply => guarded_verdict(gcra, reply).map(Admission::Counted),
        }
    }

    /// A call of a script that ends with `GUARDED_LUA`, with that part's keys and args.
    fn guarded_call<'a>(
        &self,
        script: &'a Script,
        gcra: Gcra,
        key: &str,
        ban: BanPolicy,
    ) -> ScriptInvocation<'a> {
        let names = BucketKeys::new(&self.prefix, key);
        let mut call = script.prepare_invoke();
        call.key(names.tat)
            .key(names.rejections)
            .key(names.banned_until)
            .key(names.bans)
            .arg(gcra.emission_us)
            .arg(gcra.capacity_us)
            .arg(ban.max_rejections)
            .arg(expiry_ms(micros(ban.window)))
            .arg(micros(ban.base_ban))
            .arg(micros(ban.max_ban))
            .arg(expiry_ms(micros(ban.max_ban) * 2));
        call
    }
}

/// The verdict of `GUARDED_LUA`'s reply.
fn guarded_verdict(gcra: Gcra, reply: [u64; 4]) -> Result<Verdict, InfraError> {
    let [verdict, free, retry_after, reset_after] = reply;
    let decision = |allowed| gcra.decision(allowed, free, retry_after, reset_after);
    match verdict {
        0 => Ok(Verdict::Allowed(decision(true))),
        1 => Ok(Verdict::Limited(decision(false))),
        2 => Ok(Verdict::Banned {
            retry_after: Duration::from_micros(retry_after),
        }),
        other => Err(InfraError::UnexpectedReply(format!(
            "rate limit script returned verdict {other}"
        ))),
    }
}

/// The four integers every script returns.
fn script_reply(reply: Vec<u64>) -> Result<[u64; 4], InfraError> {
    <[u64; 4]>::try_from(reply).map_err(|reply| {
        InfraError::UnexpectedReply(format!("rate limit script returned {reply:?}"))
    })
}

#[async_trait::async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn acquire(&self, key: &str, quota: Quota, cost: u32) -> Result<Decision, InfraError> {
        let gcra = Gcra::new(quota);
        let reply: Vec<u64> = self
            .acquire_script
            .key(BucketKeys::new(&self.prefix, key).tat)
            .arg(gcra.emission_us)
            .arg(gcra.capacity_us)
            .arg(gcra.clamp_cost(cost))
            .invoke_async(&mut self.conn.clone())
            .await?;
        let [allowed, free, retry_after, reset_after] = script_reply(reply)?;
        Ok(gcra.decision(allowed == 1, free, retry_after, reset_after))
    }

    async fn acquire_guarded(
        &self,
        key: &str,
        quota: Quota,
        ban: BanPolicy,
    ) -> Result<Verdict, InfraError> {
        let gcra = Gcra::new(quota);
        let reply: Vec<u64> = self
            .guarded_call(&self.guarded_script, gcra, key, ban)
            .invoke_async(&mut self.conn.clone())
            .await?;
        guarded_verdict(gcra, script_reply(reply)?)
    }
}
