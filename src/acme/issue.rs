//! One ACME order (RFC 8555 §7.4) for the portal's name with instant-acme:
//! the account (made once, kept in `<data_dir>/acme/account.json`), the
//! challenge answered (HTTP-01 through [`super::Challenges`], DNS-01
//! through [`super::dns`]), a new P-256 key and CSR from rcgen, and the
//! certificate chain. Challenge answers are removed whatever the outcome.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use serde::{Deserialize, Serialize};

use super::client::Https;
use super::dns;
use super::settings::{AcmeSettings, Challenge, DnsUpdate};
use super::{Challenges, Issued, write_private};

/// The account as kept on disk, with the directory it belongs to.
#[derive(Serialize, Deserialize)]
struct Kept {
    directory: String,
    credentials: AccountCredentials,
}

async fn account(s: &AcmeSettings, dir: &Path, http: &Https) -> anyhow::Result<Account> {
    let path = dir.join("account.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        match serde_json::from_str::<Kept>(&text) {
            Ok(kept) if kept.directory == s.directory => {
                return Account::builder_with_http(Box::new(http.clone()))
                    .from_credentials(kept.credentials)
                    .await
                    .context("restoring the ACME account");
            }
            Ok(_) => tracing::info!("ACME: the directory changed; making a new account"),
            Err(e) => {
                tracing::warn!(error = %e, "ACME: {} unreadable; making a new account", path.display())
            }
        }
    }
    let contact: Vec<&str> = s.contact.as_deref().into_iter().collect();
    let (account, credentials) = Account::builder_with_http(Box::new(http.clone()))
        .create(
            &NewAccount {
                contact: &contact,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            s.directory.clone(),
            None,
        )
        .await
        .with_context(|| format!("creating an account at {}", s.directory))?;
    let kept = Kept {
        directory: s.directory.clone(),
        credentials,
    };
    write_private(&path, serde_json::to_string(&kept)?.as_bytes())?;
    tracing::info!(directory = %s.directory, id = %account.id(), "ACME: account created");
    Ok(account)
}

/// What is left to undo once the order is over.
#[derive(Default)]
struct Cleanup {
    tokens: Vec<String>,
    txt: Vec<String>,
}

/// Orders a certificate for `s.name`.
pub async fn order(
    s: &AcmeSettings,
    dir: &Path,
    challenges: &Challenges,
) -> anyhow::Result<Issued> {
    let http = Https::new(&s.ca_bundle)?;
    let account = account(s, dir, &http).await?;
    let mut cleanup = Cleanup::default();
    let result = run_order(s, &account, challenges, &mut cleanup).await;
    for token in cleanup.tokens {
        challenges.remove(&token);
    }
    if let Challenge::Dns01(d) = &s.challenge {
        for name in cleanup.txt {
            if let Err(e) = txt(d, &name, dns::Change::DeleteTxt).await {
                tracing::warn!(error = %format!("{e:#}"), "ACME: removing the DNS-01 record failed");
            }
        }
    }
    result
}

async fn txt(d: &DnsUpdate, name: &str, change: dns::Change<'_>) -> anyhow::Result<()> {
    let key = dns::Key::read(&d.key_name, &d.secret_file)?;
    dns::update(d.server, &d.zone, name, change, &key).await
}

async fn run_order(
    s: &AcmeSettings,
    account: &Account,
    challenges: &Challenges,
    cleanup: &mut Cleanup,
) -> anyhow::Result<Issued> {
    let ids = [Identifier::Dns(s.name.clone())];
    let mut order = account
        .new_order(&NewOrder::new(&ids))
        .await
        .context("placing the order")?;
    let kind = match s.challenge {
        Challenge::Http01 => ChallengeType::Http01,
        Challenge::Dns01(_) => ChallengeType::Dns01,
    };
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.context("reading the authorization")?;
        if authz.status == AuthorizationStatus::Valid {
            continue;
        }
        let mut challenge = authz
            .challenge(kind.clone())
            .with_context(|| format!("the CA offers no {kind:?} challenge"))?;
        let key_auth = challenge.key_authorization();
        match &s.challenge {
            Challenge::Http01 => {
                challenges.insert(challenge.token.clone(), key_auth.as_str().to_owned());
                cleanup.tokens.push(challenge.token.clone());
            }
            Challenge::Dns01(d) => {
                let name = format!("_acme-challenge.{}", s.name);
                txt(d, &name, dns::Change::SetTxt(&key_auth.dns_value()))
                    .await
                    .context("DNS-01")?;
                cleanup.txt.push(name.clone());
                tracing::info!(record = %name, server = %d.server, "ACME: DNS-01 record set");
                tokio::time::sleep(Duration::from_secs(u64::from(d.wait_seconds))).await;
            }
        }
        challenge
            .set_ready()
            .await
            .context("answering the challenge")?;
    }
    let retries = RetryPolicy::new().timeout(Duration::from_secs(120));
    let status = order
        .poll_ready(&retries)
        .await
        .context("waiting for validation")?;
    if status != OrderStatus::Ready {
        return Err(anyhow::anyhow!(
            "the CA did not validate {} ({status:?}){}",
            s.name,
            why_invalid(&mut order).await
        ));
    }
    let key = rcgen::KeyPair::generate().context("making the certificate's key")?;
    let csr = rcgen::CertificateParams::new(vec![s.name.clone()])
        .and_then(|p| p.serialize_request(&key))
        .context("making the certificate request")?;
    order
        .finalize_csr(csr.der())
        .await
        .context("finalizing the order")?;
    let chain = order
        .poll_certificate(&retries)
        .await
        .context("downloading the certificate")?;
    Ok(Issued {
        chain,
        key: key.serialize_pem(),
    })
}

/// The CA's words on why a challenge failed, if it said any.
async fn why_invalid(order: &mut instant_acme::Order) -> String {
    let mut words = String::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(authz)) = authorizations.next().await {
        for c in &authz.challenges {
            if let Some(p) = &c.error {
                words.push_str(&format!(": {:?} {}", c.r#type, p));
            }
        }
    }
    words
}
