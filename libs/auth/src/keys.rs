//! Ed25519 key pairs, each identified by a `kid`, and the JWKS document that publishes their public halves.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
pub use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

use crate::error::KeyError;

/// An Ed25519 signing key with its `kid`.
///
/// The `kid` is the RFC 7638 thumbprint of the public key, so the same key always has the same `kid` on every
/// machine and no separate identifier has to be configured or kept in step.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    public: [u8; 32],
    pkcs8_der: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private half.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        Self::from_dalek(&key).expect("a freshly generated Ed25519 key always encodes as PKCS#8")
    }

    fn from_dalek(key: &ed25519_dalek::SigningKey) -> Result<Self, KeyError> {
        let der = key
            .to_pkcs8_der()
            .map_err(|e| KeyError::Parse(e.to_string()))?;
        let public = key.verifying_key().to_bytes();
        Ok(Self {
            kid: thumbprint(&public),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            public,
            pkcs8_der: der.as_bytes().to_vec(),
        })
    }

    /// From a PKCS#8 PEM text (`-----BEGIN PRIVATE KEY-----`), as written by `openssl genpkey -algorithm ed25519`.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim())
            .map_err(|e| KeyError::Parse(e.to_string()))?;
        Self::from_dalek(&key)
    }

    pub fn from_pem_file(path: &Path) -> Result<Self, KeyError> {
        let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_pem(&pem)
    }

    /// From an environment variable holding the PEM text (how Kubernetes secrets usually arrive).
    pub fn from_env(var: &str) -> Result<Self, KeyError> {
        let pem = std::env::var(var).map_err(|_| KeyError::MissingEnv(var.to_owned()))?;
        Self::from_pem(&pem)
    }

    /// Loads the key at `path`, or generates one and writes it there (mode 0600) when the file does not exist.
    /// For development and `cloverleaf serve`; production loads keys it was given. Safe when several services
    /// start at once: the file appears whole or not at all, and whoever loses the race reads the winner's key.
    pub fn load_or_generate(path: &Path) -> Result<Self, KeyError> {
        if path.exists() {
            return Self::from_pem_file(path);
        }
        let key = Self::generate();
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let partial = path.with_extension(format!("{}.partial", uuid::Uuid::new_v4().simple()));
        write_private(&partial, key.to_pem()?.as_bytes()).map_err(io)?;
        // A hard link never replaces an existing file, so two racing writers cannot both win.
        let linked = std::fs::hard_link(&partial, path);
        let _ = std::fs::remove_file(&partial);
        match linked {
            Ok(()) => Ok(key),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::from_pem_file(path)
            }
            Err(error) => Err(io(error)),
        }
    }

    /// The private key as PKCS#8 PEM.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_der(&self.pkcs8_der)
            .map_err(|e| KeyError::Parse(e.to_string()))?;
        key.to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| KeyError::Parse(e.to_string()))
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The key that verifies this key's signatures.
    pub fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_ed_der(&self.public)
    }

    /// The public half as a JWK (`kty: OKP`, `crv: Ed25519`, `alg: EdDSA`, `use: sig`).
    pub fn public_jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(self.kid.clone()),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(self.public),
            }),
        }
    }
}

/// The JWKS document listing the public halves of `keys` (the current key first, then keys still being retired).
pub fn jwks_document<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> JwkSet {
    JwkSet {
        keys: keys.into_iter().map(SigningKey::public_jwk).collect(),
    }
}

/// A public key from a JWKS document with the one algorithm it checks: chosen by the key, never by the token.
#[derive(Clone)]
pub struct VerifyingKey {
    pub algorithm: jsonwebtoken::Algorithm,
    pub key: DecodingKey,
}

/// The verifying keys of a JWKS document by `kid`: Ed25519 keys (EdDSA) and RSA keys (RS256 only; an RSA key whose
/// `alg` names anything else is skipped). Which of them a token may use is the verifier's decision: RSA keys only
/// for external OpenID Connect issuers, whose ID tokens are RS256 by default.
pub fn jwk_keys(set: &JwkSet) -> Vec<(String, VerifyingKey)> {
    let mut keys: Vec<(String, VerifyingKey)> = ed25519_keys(set)
        .into_iter()
        .map(|(kid, key)| {
            (
                kid,
                VerifyingKey {
                    algorithm: jsonwebtoken::Algorithm::EdDSA,
                    key,
                },
            )
        })
        .collect();
    keys.extend(set.keys.iter().filter_map(|jwk| {
        let kid = jwk.common.key_id.clone()?;
        let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
            return None;
        };
        if jwk
            .common
            .key_algorithm
            .is_some_and(|alg| alg != KeyAlgorithm::RS256)
            || jwk
                .common
                .public_key_use
                .as_ref()
                .is_some_and(|u| *u != PublicKeyUse::Signature)
        {
            return None;
        }
        let key = DecodingKey::from_rsa_components(&rsa.n, &rsa.e).ok()?;
        Some((
            kid,
            VerifyingKey {
                algorithm: jsonwebtoken::Algorithm::RS256,
                key,
            },
        ))
    }));
    keys
}

/// The Ed25519 verifying keys of a JWKS document by `kid`. Keys of other types or curves are skipped, since only
/// EdDSA tokens are ever accepted; a key without `kid` cannot be chosen and is skipped too.
pub fn ed25519_keys(set: &JwkSet) -> Vec<(String, DecodingKey)> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            match &jwk.algorithm {
                AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                    let bytes = URL_SAFE_NO_PAD.decode(&okp.x).ok()?;
                    (bytes.len() == 32).then(|| (kid, DecodingKey::from_ed_der(&bytes)))
                }
                _ => None,
            }
        })
        .collect()
}

/// RFC 7638 JWK thumbprint of an Ed25519 public key (members in lexicographic order, no white space).
fn thumbprint(public: &[u8; 32]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(public)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_kid() {
        let key = SigningKey::generate();
        let pem = key.to_pem().expect("pem");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = SigningKey::from_pem(&pem).expect("parse");
        assert_eq!(key.kid(), again.kid());
    }

    #[test]
    fn load_or_generate_writes_once_then_reads_the_same_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/signing.pem");
        let first = SigningKey::load_or_generate(&path).expect("generate");
        let second = SigningKey::load_or_generate(&path).expect("load");
        assert_eq!(first.kid(), second.kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(
                mode & 0o777,
                0o600,
                "private key must not be readable by others"
            );
        }
    }

    #[test]
    fn garbage_pem_is_a_clear_error() {
        assert!(matches!(
            SigningKey::from_pem("not a key"),
            Err(KeyError::Parse(_))
        ));
        assert!(matches!(
            SigningKey::from_env("CLOVERLEAF_TEST_SURELY_UNSET"),
            Err(KeyError::MissingEnv(_))
        ));
    }

    #[test]
    fn jwks_lists_public_okp_keys_that_parse_back() {
        let key = SigningKey::generate();
        let set = jwks_document([&key]);
        let json = serde_json::to_value(&set).expect("json");
        let jwk = &json["keys"][0];
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["kid"], key.kid());
        assert!(
            jwk.get("d").is_none(),
            "the private half must never be published"
        );
        let parsed: JwkSet = serde_json::from_value(json).expect("parse");
        let keys = ed25519_keys(&parsed);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].0, key.kid());
    }
}
