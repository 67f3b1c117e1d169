//! The organization's policies: resource policies of streams and consumers, each account's
//! managed policies and boundaries, principals' own policies, and the SCP levels.

use super::*;

impl Builder {
    /// The resource policies of a third of the streams, and of their consumers: shared with
    /// consumer and producer roles of the stream's team in other accounts, and with other
    /// accounts as a whole.
    pub(super) fn resource_policies(&mut self) -> BTreeMap<String, Value> {
        let mut resources = BTreeMap::new();
        for s in 0..self.streams.len() {
            let st = self.streams[s].clone();
            let acct = account_id(st.account);
            let mut entry = Map::new();
            entry.insert(
                "tags".into(),
                json!({
                    "team": st.team,
                    "env": env_of(st.account),
                    "data-class": CLASSES[s % CLASSES.len()],
                }),
            );
            let shared = s % 3 == 0;
            if shared {
                let mut stmts = Vec::new();
                let reader = self.foreign_role(st.account, st.team, "consumer");
                let mut principals: Vec<String> =
                    vec![account_id((st.account + 1) % self.size.accounts.max(1))];
                if let Some(r) = reader {
                    principals.push(self.principal_arn(r));
                    let arn = st.arn.clone();
                    self.principals[r]
                        .grants
                        .push(("kinesis:GetRecords".into(), arn));
                }
                principals.dedup();
                principals.retain(|p| *p != acct);
                if !principals.is_empty() {
                    stmts.push(with_condition(
                        {
                            let mut m = allow("ShareRead", READ, json!(st.arn));
                            m.insert("Principal".into(), json!({"AWS": principals}));
                            m
                        },
                        json!({"Bool": {"aws:SecureTransport": "true"}}),
                    ));
                }
                if let Some(w) = self.foreign_role(st.account, st.team, "producer") {
                    let mut m = allow("ShareWrite", WRITE, json!(st.arn));
                    m.insert("Principal".into(), json!({"AWS": self.principal_arn(w)}));
                    stmts.push(with_condition(
                        m,
                        json!({"IpAddress": {"aws:SourceIp": CORP_CIDRS}}),
                    ));
                    let arn = st.arn.clone();
                    self.principals[w]
                        .grants
                        .push(("kinesis:PutRecord".into(), arn));
                }
                if self.rng.percent(30) {
                    let other = account_id((st.account + 2) % self.size.accounts.max(1));
                    if other != acct {
                        let mut m = deny("DenyPartnerWrites", WRITE, json!(st.arn));
                        m.insert("Principal".into(), json!({"AWS": other}));
                        stmts.push(Value::Object(m));
                    }
                }
                if !stmts.is_empty() {
                    let rel = format!(
                        "resources/{acct}/{}.json",
                        st.arn.rsplit('/').next().unwrap_or("stream")
                    );
                    self.file(rel.clone(), &doc(stmts));
                    entry.insert("policy".into(), json!({"file": rel}));
                    self.summary.resource_policies += 1;
                }
            }
            resources.insert(st.arn.clone(), Value::Object(entry));
            if let Some(c) = &st.consumer {
                self.summary.consumers += 1;
                let mut entry = Map::new();
                if let (true, Some(r)) =
                    (shared, self.foreign_role(st.account, st.team, "consumer"))
                {
                    let mut m = allow(
                        "EfoRead",
                        &["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
                        json!(c),
                    );
                    m.insert("Principal".into(), json!({"AWS": self.principal_arn(r)}));
                    let rel = format!(
                        "resources/{acct}/{}.consumer.json",
                        st.arn.rsplit('/').next().unwrap_or("stream")
                    );
                    self.file(rel.clone(), &doc(vec![Value::Object(m)]));
                    entry.insert("policy".into(), json!({"file": rel}));
                    self.summary.resource_policies += 1;
                    self.principals[r]
                        .grants
                        .push(("kinesis:SubscribeToShard".into(), c.clone()));
                }
                resources.insert(c.clone(), Value::Object(entry));
            }
        }
        resources
    }

    /// The account's managed policies: one per group, and two boundaries.
    pub(super) fn account_policies(&mut self, a: usize) -> (Vec<String>, [String; 2]) {
        let acct = account_id(a);
        let all = json!(format!("arn:aws:kinesis:*:{acct}:stream/*"));
        let streams = self.streams_of(a);
        let mut groups = Vec::new();
        for g in GROUPS {
            let mut stmts: Vec<Value> = Vec::new();
            match *g {
                "readers" => {
                    stmts.push(with_condition(
                        allow("ReadOwnTeam", READ, all.clone()),
                        json!({"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
                    ));
                    stmts.push(Value::Object(allow(
                        "List",
                        &["kinesis:ListStreams"],
                        json!("*"),
                    )));
                }
                "writers" => {
                    for t in TEAMS {
                        stmts.push(with_condition(
                            allow(
                                &format!("Write{}", t.replace('-', "")),
                                WRITE,
                                json!(format!("arn:aws:kinesis:*:{acct}:stream/{t}-*")),
                            ),
                            json!({"StringEquals": {"aws:PrincipalTag/team": t}}),
                        ));
                    }
                    stmts.push(with_condition(
                        deny("NoRestrictedWrites", WRITE, all.clone()),
                        json!({"StringEquals": {"aws:ResourceTag/data-class": "restricted"}}),
                    ));
                }
                "admins" => {
                    stmts.push(Value::Object(allow("Admin", &["kinesis:*"], all.clone())));
                    stmts.push(with_condition(
                        deny("NoDeleteWithoutMfa", &["kinesis:DeleteStream"], all.clone()),
                        json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
                    ));
                }
                "auditors" => {
                    stmts.push(Value::Object(allow(
                        "Audit",
                        &["kinesis:Describe*", "kinesis:List*"],
                        json!("*"),
                    )));
                }
                "oncall" => {
                    stmts.push(with_condition(
                        allow(
                            "Scale",
                            &[
                                "kinesis:IncreaseStreamRetentionPeriod",
                                "kinesis:SplitShard",
                                "kinesis:MergeShards",
                            ],
                            all.clone(),
                        ),
                        json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/12"}}),
                    ));
                }
                _ => {
                    // analysts: literal grants on a slice of the account's streams (as many
                    // as a managed policy's 6,144 characters hold).
                    for (k, s) in streams.iter().take(30).enumerate() {
                        stmts.push(Value::Object(allow(
                            &format!("Analyse{k}"),
                            &["kinesis:GetRecords", "kinesis:GetShardIterator"],
                            json!(self.streams[*s].arn),
                        )));
                    }
                }
            }
            if stmts.is_empty() {
                continue;
            }
            groups.push(self.named_policy(format!("{acct}-{g}"), "identity", &doc(stmts)));
        }
        let dev = self.named_policy(
            format!("{acct}-developer-boundary"),
            "boundary",
            &doc(vec![
                Value::Object(allow(
                    "Data",
                    &[
                        "kinesis:Get*",
                        "kinesis:Put*",
                        "kinesis:Describe*",
                        "kinesis:List*",
                        "kinesis:SubscribeToShard",
                    ],
                    json!("*"),
                )),
                with_condition(
                    deny("NoInsecure", &["kinesis:*"], json!("*")),
                    json!({"Bool": {"aws:SecureTransport": "false"}}),
                ),
            ]),
        );
        let workload = self.named_policy(
            format!("{acct}-workload-boundary"),
            "boundary",
            &doc(vec![Value::Object(allow(
                "Streams",
                &["kinesis:*"],
                json!("arn:aws:kinesis:*:*:stream/*"),
            ))]),
        );
        (groups, [dev, workload])
    }

    /// The own policy of principal `i`: literal grants on streams of its account, wildcard
    /// grants on its team's streams, cross-account grants (roles), and a few targeted denies.
    pub(super) fn own_policy(&mut self, i: usize) -> Value {
        let p = self.principals[i].clone();
        let acct = account_id(p.account);
        let mine = self.streams_of(p.account);
        let team_streams: Vec<usize> = mine
            .iter()
            .copied()
            .filter(|s| self.streams[*s].team == p.team)
            .collect();
        let mut stmts = Vec::new();
        let mut grants = Vec::new();
        let mut denies = Vec::new();
        let literal = if p.role {
            10 + self.rng.below(20)
        } else {
            6 + self.rng.below(11)
        };
        for k in 0..literal {
            let pool = if team_streams.is_empty() || self.rng.percent(30) {
                &mine
            } else {
                &team_streams
            };
            let Some(&s) = pool.get(self.rng.below(pool.len())) else {
                break;
            };
            let arn = self.streams[s].arn.clone();
            let actions = match p.kind {
                "producer" => some(&mut self.rng, WRITE, 2),
                "consumer" => some(&mut self.rng, READ, 3),
                "admin" => some(&mut self.rng, ADMIN, 3),
                _ => {
                    if self.rng.percent(50) {
                        some(&mut self.rng, READ, 2)
                    } else {
                        some(&mut self.rng, WRITE, 1)
                    }
                }
            };
            grants.push((actions[0].to_string(), arn.clone()));
            let mut resources = vec![arn];
            if self.rng.percent(30) {
                if let Some(&s2) = mine.get(self.rng.below(mine.len())) {
                    resources.push(self.streams[s2].arn.clone());
                }
            }
            let m = allow(&format!("Grant{k}"), &actions, json!(resources));
            stmts.push(match self.rng.below(10) {
                0 => with_condition(
                    m,
                    json!({"IpAddress": {"aws:SourceIp": format!("10.{}.0.0/16", self.rng.below(16))}}),
                ),
                1 => with_condition(m, json!({"Bool": {"aws:SecureTransport": "true"}})),
                _ => Value::Object(m),
            });
        }
        // The team's streams by name prefix.
        let team_actions: &[&str] = if p.kind == "producer" { WRITE } else { READ };
        stmts.push(with_condition(
            allow(
                "TeamStreams",
                team_actions,
                json!(format!("arn:aws:kinesis:*:{acct}:stream/{}-*", p.team)),
            ),
            json!({"StringEquals": {"aws:ResourceTag/env": env_of(p.account)}}),
        ));
        if let Some(&s) = team_streams.first() {
            grants.push((team_actions[0].to_string(), self.streams[s].arn.clone()));
        }
        if p.role && matches!(p.kind, "consumer" | "producer" | "pipeline") {
            // Cross-account: the other side's resource policy must grant too.
            let actions: &[&str] = if p.kind == "producer" { WRITE } else { READ };
            stmts.push(Value::Object(allow(
                "SharedStreams",
                actions,
                json!(format!("arn:aws:kinesis:*:*:stream/{}-*", p.team)),
            )));
            if p.kind != "producer" {
                stmts.push(Value::Object(allow(
                    "SharedConsumers",
                    &["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
                    json!(format!(
                        "arn:aws:kinesis:*:*:stream/{}-*/consumer/*",
                        p.team
                    )),
                )));
            }
        }
        // Targeted denies: a stream the principal must not touch.
        for k in 0..1 + self.rng.below(3) {
            let Some(&s) = mine.get(self.rng.below(mine.len())) else {
                break;
            };
            let arn = self.streams[s].arn.clone();
            let actions = some(&mut self.rng, &[READ, WRITE].concat(), 3);
            denies.push((actions[0].to_string(), arn.clone()));
            stmts.push(Value::Object(deny(
                &format!("Deny{k}"),
                &actions,
                json!(arn),
            )));
        }
        let principal = &mut self.principals[i];
        principal.grants.extend(grants);
        principal.denies.extend(denies);
        doc(stmts)
    }

    /// SCPs: the root level allows everything; each OU (one per environment) denies insecure
    /// transport, calls from outside the corporate networks and, in prod, deleting streams;
    /// every other account has an account level of its own.
    pub(super) fn scps(&mut self) -> Value {
        let full = self.named_policy(
            "FullAWSAccess".into(),
            "scp",
            &doc(vec![Value::Object(allow("All", &["*"], json!("*")))]),
        );
        let mut ous = BTreeMap::new();
        for env in ENVS {
            let mut stmts = vec![
                Value::Object(allow("All", &["*"], json!("*"))),
                with_condition(
                    deny("DenyInsecureTransport", &["kinesis:*"], json!("*")),
                    json!({"Bool": {"aws:SecureTransport": "false"}}),
                ),
                with_condition(
                    deny("DenyOutsideNetworks", &["kinesis:*"], json!("*")),
                    json!({"NotIpAddress": {"aws:SourceIp": CORP_CIDRS}}),
                ),
            ];
            if *env == "prod" {
                stmts.push(Value::Object(deny(
                    "ProtectProdStreams",
                    &[
                        "kinesis:DeleteStream",
                        "kinesis:DecreaseStreamRetentionPeriod",
                    ],
                    json!("*"),
                )));
            }
            ous.insert(
                *env,
                self.named_policy(format!("ou-{env}-guardrails"), "scp", &doc(stmts)),
            );
        }
        let mut accounts = Map::new();
        for a in 0..self.size.accounts {
            let acct = account_id(a);
            let ou = ous.get(env_of(a)).cloned().unwrap_or_default();
            let mut levels = vec![json!([full]), json!([ou])];
            if a % 2 == 1 {
                let own = self.named_policy(
                    format!("{acct}-account-guardrails"),
                    "scp",
                    &doc(vec![
                        Value::Object(allow("All", &["*"], json!("*"))),
                        Value::Object(deny(
                            "NoEncryptionChanges",
                            &[
                                "kinesis:StartStreamEncryption",
                                "kinesis:StopStreamEncryption",
                            ],
                            json!("*"),
                        )),
                    ]),
                );
                levels.push(json!([own]));
            }
            accounts.insert(acct, json!({"scps": levels}));
        }
        json!({"management_account": "999900000000", "accounts": accounts})
    }
}
