"""The crypto module (DESIGN 3.1–3.4): sealing, binding, wrapping, key derivation, codes."""

import base64
import re
import string

import pytest
from sqlalchemy import select

from journal import crypto
from journal.crypto import DecryptionFailed, FieldRef, KdfParams, WeakParameters
from journal.crypto.kdf import MIN_ITERATIONS, MIN_MEMORY_KIB
from journal.db import session_for
from journal.models import User

from conftest import PASSPHRASE, Browser, invite_and_join, sign_in

FAST = KdfParams(memory_kib=256, iterations=1, lanes=1)
REF = FieldRef("note_revisions", "row-1", "content", "case-1")
TEXTS = [
    "",
    "plain ascii",
    "来访者说她很焦虑，睡不着觉。",
    "emoji 😢🌧️➡️🌤️ and a combining é",
    "line one\nline two\r\n\ttabbed \x00 nul",
    "x" * 20_000,
]


# --- record fields -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", TEXTS)
def test_seal_and_open_round_trip(text):
    key = crypto.new_key()
    blob = crypto.seal_field(key, text, REF, 1)
    assert crypto.open_field(key, blob, REF) == text
    if text:
        assert text.encode() not in blob


def test_wrong_key_fails():
    blob = crypto.seal_field(crypto.new_key(), "secret", REF, 1)
    with pytest.raises(DecryptionFailed):
        crypto.open_field(crypto.new_key(), blob, REF)


def test_decryption_failed_is_a_crypto_error_not_a_library_error():
    assert issubclass(DecryptionFailed, crypto.CryptoError)
    with pytest.raises(crypto.CryptoError):
        crypto.open_field(crypto.new_key(), b"\x01\x00\x00\x00\x01" + b"\x00" * 40, REF)


@pytest.mark.parametrize("moved", [
    FieldRef("note_revisions", "row-2", "content", "case-1"),  # another row
    FieldRef("note_revisions", "row-1", "reason", "case-1"),  # another column
    FieldRef("note_revisions", "row-1", "content", "case-2"),  # another case
    FieldRef("open_questions", "row-1", "content", "case-1"),  # another table
    FieldRef("people", "row-2", "name", "case-2"),  # everything different
], ids=["row", "column", "case", "table", "all"])
def test_ciphertext_moved_elsewhere_fails(moved):
    key = crypto.new_key()
    blob = crypto.seal_field(key, "Robin's note", REF, 1)
    with pytest.raises(DecryptionFailed):
        crypto.open_field(key, blob, moved)
    # ...while it still opens where it belongs.
    assert crypto.open_field(key, blob, REF) == "Robin's note"


def test_field_ids_are_uuids_so_the_joined_associated_data_is_unambiguous():
    """Associated data joins parts with '|'. That is unambiguous only while no part contains
    '|': tables and columns are constants and row ids are application-generated UUIDs."""
    from journal.models import new_id

    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", i)
               for i in ids)


@pytest.mark.parametrize("tamper", ["version", "format"])
def test_tampered_content_version_header_fails(tamper):
    key = crypto.new_key()
    blob = bytearray(crypto.seal_field(key, "text", REF, 3))
    assert crypto.field_version(bytes(blob)) == 3
    if tamper == "version":
        blob[1:5] = (4).to_bytes(4, "big")  # claim a newer content version
    else:
        blob[0] ^= 0xFF
    with pytest.raises(DecryptionFailed):
        crypto.open_field(key, bytes(blob), REF)


def test_old_version_replayed_with_rewritten_header_fails():
    """Rolling a field back to an older ciphertext is detected only by the version: at least a
    header claiming the newer version over the old body must not open."""
    key = crypto.new_key()
    v1 = crypto.seal_field(key, "first", REF, 1)
    v2 = crypto.reseal_field(key, v1, "second", REF)
    forged = v2[:5] + v1[5:]
    with pytest.raises(DecryptionFailed):
        crypto.open_field(key, forged, REF)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01\x00\x00\x00\x01", b"\x01\x00\x00\x00\x01"
                                  + b"\x00" * 27])
def test_truncated_fields_fail_cleanly(blob):
    with pytest.raises(DecryptionFailed):
        crypto.open_field(crypto.new_key(), blob, REF)


def test_flipped_ciphertext_bit_fails():
    key = crypto.new_key()
    blob = bytearray(crypto.seal_field(key, "text", REF, 1))
    blob[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        crypto.open_field(key, bytes(blob), REF)


def test_reseal_increments_the_version():
    key = crypto.new_key()
    first = crypto.reseal_field(key, None, "one", REF)
    assert crypto.field_version(first) == 1
    second = crypto.reseal_field(key, first, "two", REF)
    assert crypto.field_version(second) == 2
    third = crypto.reseal_field(key, second, "three", REF)
    assert crypto.field_version(third) == 3
    assert crypto.open_field(key, third, REF) == "three"
    assert crypto.open_field(key, first, REF) == "one"


def test_nonces_are_unique_and_ciphertexts_differ():
    key = crypto.new_key()
    blobs = [crypto.seal_field(key, "the same words", REF, 1) for _ in range(2000)]
    header = 5
    nonces = {b[header:header + crypto.envelope.NONCE_BYTES] for b in blobs}
    assert len(nonces) == len(blobs)
    assert len(set(blobs)) == len(blobs)
    assert all(crypto.open_field(key, b, REF) == "the same words" for b in blobs[:20])


def test_new_keys_are_random_256_bit():
    keys = {crypto.new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(k) == 32 for k in keys)


# A field sealed by the code before FieldCipher and PrivateKey existed: the stored format and
# the associated data must never change (DESIGN 3.3), however the opening is made faster.
GOLDEN_KEY = bytes(range(32))
GOLDEN_REF = FieldRef("note_revisions", "3f1c2b9e-5d1a-4c11-9a7e-0b3c2d1e0f55", "content",
                      "c0ffee00-0000-4000-8000-000000000001")
GOLDEN_TEXT = '{"narrative": "Slept badly — 睡不好"}'
GOLDEN_BLOB = bytes.fromhex(
    "0100000007a288d1d26eef901808172b73457c5cf0a57135fa0bd082d929e8bebf3c8708648cc2e746a9722eb2"
    "c4cb0f17ea076e7ddf48b5fb2c6d7741fdd7424f127a674263312c387ab8")


def test_stored_fields_keep_their_format_and_associated_data():
    assert GOLDEN_REF.associated_data(7) == (
        b"16:journal/v1/field;14:note_revisions;36:3f1c2b9e-5d1a-4c11-9a7e-0b3c2d1e0f55;"
        b"7:content;36:c0ffee00-0000-4000-8000-000000000001;1:7;")
    assert crypto.field_version(GOLDEN_BLOB) == 7
    assert crypto.open_field(GOLDEN_KEY, GOLDEN_BLOB, GOLDEN_REF) == GOLDEN_TEXT
    cipher = crypto.FieldCipher(GOLDEN_KEY, GOLDEN_REF.table, GOLDEN_REF.column,
                                GOLDEN_REF.case_id)
    assert cipher.open(GOLDEN_BLOB, GOLDEN_REF.row_id) == GOLDEN_TEXT
    assert cipher.open_utf8(GOLDEN_BLOB, GOLDEN_REF.row_id) == GOLDEN_TEXT.encode()


def test_associated_data_is_length_prefixed_utf8_of_every_part():
    ref = FieldRef("t", "row-ü", "c;1:x", "案例")
    expected = b"".join(b"%d:%s;" % (len(p.encode()), p.encode())
                        for p in ("journal/v1/field", "t", "row-ü", "c;1:x", "案例", "12"))
    assert ref.associated_data(12) == expected


@pytest.mark.parametrize("text", TEXTS)
def test_a_field_cipher_opens_what_seal_field_sealed(text):
    key = crypto.new_key()
    cipher = crypto.FieldCipher(key, REF.table, REF.column, REF.case_id)
    for version in (1, 2, 10, 2**32 - 1):
        blob = crypto.seal_field(key, text, REF, version)
        assert cipher.open(blob, REF.row_id) == text
        assert cipher.open_utf8(blob, REF.row_id) == text.encode()
    other = FieldRef(REF.table, "row-2", REF.column, REF.case_id)
    assert cipher.open(crypto.seal_field(key, text, other, 3), "row-2") == text


@pytest.mark.parametrize("moved", [
    FieldRef("note_revisions", "row-2", "content", "case-1"),
    FieldRef("note_revisions", "row-1", "reason", "case-1"),
    FieldRef("note_revisions", "row-1", "content", "case-2"),
    FieldRef("open_questions", "row-1", "content", "case-1"),
], ids=["row", "column", "case", "table"])
def test_a_field_cipher_binds_table_row_column_and_case(moved):
    key = crypto.new_key()
    blob = crypto.seal_field(key, "Robin's note", REF, 1)
    cipher = crypto.FieldCipher(key, moved.table, moved.column, moved.case_id)
    with pytest.raises(DecryptionFailed):
        cipher.open(blob, moved.row_id)
    with pytest.raises(DecryptionFailed):
        crypto.FieldCipher(crypto.new_key(), REF.table, REF.column, REF.case_id).open(
            blob, REF.row_id)


def test_a_field_cipher_without_a_case_opens_each_row_with_its_own_case():
    """The dashboard's names: one key, one column, a row of a different case each time."""
    key = crypto.new_key()
    cipher = crypto.FieldCipher(key, "directory_entries", "name", None)
    for case_id, row_id, text in (("case-1", "row-1", "Robin"), ("case-2", "row-2", "小明")):
        ref = FieldRef("directory_entries", row_id, "name", case_id)
        for version in (1, 7):
            blob = crypto.seal_field(key, text, ref, version)
            assert cipher.open(blob, row_id, case_id) == text
            with pytest.raises(DecryptionFailed):  # the case is bound as before
                cipher.open(blob, row_id, "case-3")
            with pytest.raises(DecryptionFailed):
                cipher.open(blob, "row-3", case_id)
    blob = crypto.seal_field(key, "Robin", REF, 1)
    with pytest.raises(ValueError):  # a cipher made without a case needs one per row ...
        cipher.open(blob, REF.row_id)
    with pytest.raises(ValueError):  # ... and one made for a case takes none
        crypto.FieldCipher(key, REF.table, REF.column, REF.case_id).open(
            blob, REF.row_id, REF.case_id)


def test_a_field_cipher_refuses_tampered_truncated_and_replayed_fields():
    key = crypto.new_key()
    cipher = crypto.FieldCipher(key, REF.table, REF.column, REF.case_id)
    blob = crypto.seal_field(key, "first words", REF, 2)
    assert cipher.open(blob, REF.row_id) == "first words"  # its version memo is now warm
    bad = [b"", blob[:4], blob[:5 + 12 + 15], b"\x02" + blob[1:],
           blob[:1] + (3).to_bytes(4, "big") + blob[5:],
           blob[:-1] + bytes([blob[-1] ^ 1]), blob[:20] + bytes([blob[20] ^ 1]) + blob[21:]]
    for tampered in bad:
        with pytest.raises(DecryptionFailed):
            cipher.open(tampered, REF.row_id)
    assert "first" not in repr(cipher) and repr(key) not in repr(cipher)


# --- HPKE wraps --------------------------------------------------------------------------------


def test_hpke_wrap_round_trip():
    private, public = crypto.generate_key_pair()
    assert len(private) == 32 and len(public) == 32
    key = crypto.new_key()
    wrapped = crypto.wrap_key_to(public, key, "private", "case-1", "user-1")
    assert key not in wrapped
    assert crypto.unwrap_key_with(private, wrapped, "private", "case-1", "user-1") == key


def test_hpke_wraps_differ_each_time():
    private, public = crypto.generate_key_pair()
    key = crypto.new_key()
    a = crypto.wrap_key_to(public, key, "private", "case-1", "user-1")
    b = crypto.wrap_key_to(public, key, "private", "case-1", "user-1")
    assert a != b
    assert crypto.unwrap_key_with(private, b, "private", "case-1", "user-1") == key


@pytest.mark.parametrize("purpose, case_id, recipient_id", [
    ("shared", "case-1", "user-1"),
    ("private", "case-2", "user-1"),
    ("private", "case-1", "user-2"),
], ids=["purpose", "case", "recipient"])
def test_hpke_wrap_is_bound_to_purpose_case_and_recipient(purpose, case_id, recipient_id):
    private, public = crypto.generate_key_pair()
    wrapped = crypto.wrap_key_to(public, crypto.new_key(), "private", "case-1", "user-1")
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_key_with(private, wrapped, purpose, case_id, recipient_id)


def test_hpke_wrap_fails_with_another_private_key():
    _private, public = crypto.generate_key_pair()
    other_private, _other_public = crypto.generate_key_pair()
    wrapped = crypto.wrap_key_to(public, crypto.new_key(), "private", "case-1", "user-1")
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_key_with(other_private, wrapped, "private", "case-1", "user-1")


@pytest.mark.parametrize("wrapped", [b"", b"short", b"\x00" * 80])
def test_hpke_garbage_fails_cleanly(wrapped):
    private, _public = crypto.generate_key_pair()
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_key_with(private, wrapped, "private", "case-1", "user-1")


def test_a_parsed_private_key_opens_the_same_wraps_with_the_same_binding():
    private, public = crypto.generate_key_pair()
    parsed = crypto.PrivateKey(private)
    keys = {case: crypto.new_key() for case in ("case-1", "case-2")}
    for case, key in keys.items():
        wrapped = crypto.wrap_key_to(public, key, "private", case, "user-1")
        assert parsed.unwrap_key(wrapped, "private", case, "user-1") == key
        assert crypto.unwrap_key_with(private, wrapped, "private", case, "user-1") == key
        for purpose, other_case, recipient in [("shared", case, "user-1"),
                                               ("private", "case-3", "user-1"),
                                               ("private", case, "user-2")]:
            with pytest.raises(DecryptionFailed):
                parsed.unwrap_key(wrapped, purpose, other_case, recipient)
    other, _public = crypto.generate_key_pair()
    wrapped = crypto.wrap_key_to(public, keys["case-1"], "private", "case-1", "user-1")
    with pytest.raises(DecryptionFailed):
        crypto.PrivateKey(other).unwrap_key(wrapped, "private", "case-1", "user-1")
    assert repr(private) not in repr(parsed) and private.hex() not in repr(parsed)


@pytest.mark.parametrize("private", [b"", b"short", b"\x00" * 31])
def test_a_private_key_that_is_not_one_fails_like_a_wrong_key(private):
    _private, public = crypto.generate_key_pair()
    wrapped = crypto.wrap_key_to(public, crypto.new_key(), "private", "case-1", "user-1")
    with pytest.raises(DecryptionFailed):
        crypto.PrivateKey(private).unwrap_key(wrapped, "private", "case-1", "user-1")
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_key_with(private, wrapped, "private", "case-1", "user-1")


# --- symmetric key wraps -----------------------------------------------------------------------


def test_wrap_secret_round_trip_and_binding():
    kek, secret = crypto.new_key(), crypto.new_key()
    wrapped = crypto.wrap_secret(kek, secret, "private-key/passphrase", "user-1")
    assert secret not in wrapped
    assert crypto.unwrap_secret(kek, wrapped, "private-key/passphrase", "user-1") == secret
    for purpose, ids in [("private-key/recovery", ("user-1",)),
                         ("private-key/passphrase", ("user-2",)),
                         ("private-key/passphrase", ()),
                         ("private-key/passphrase", ("user-1", "extra")),
                         ("private-key/passphrase", ("user", "1"))]:
        with pytest.raises(DecryptionFailed):
            crypto.unwrap_secret(kek, wrapped, purpose, *ids)
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_secret(crypto.new_key(), wrapped, "private-key/passphrase", "user-1")


def test_wrap_secret_differs_each_time():
    kek, secret = crypto.new_key(), crypto.new_key()
    assert (crypto.wrap_secret(kek, secret, "p", "u")
            != crypto.wrap_secret(kek, secret, "p", "u"))


# --- passphrase key derivation -----------------------------------------------------------------


def test_derive_passphrase_keys_is_deterministic_for_same_salt_and_params():
    salt = crypto.new_salt()
    a = crypto.derive_passphrase_keys(PASSPHRASE, salt, FAST)
    b = crypto.derive_passphrase_keys(PASSPHRASE, salt, FAST)
    assert a == b
    assert len(a.login_key) == 32 and len(a.key_encryption_key) == 32


def test_derive_passphrase_keys_differs_for_salt_params_and_passphrase():
    salt = crypto.new_salt()
    base = crypto.derive_passphrase_keys(PASSPHRASE, salt, FAST)
    other_salt = crypto.derive_passphrase_keys(PASSPHRASE, crypto.new_salt(), FAST)
    other_params = crypto.derive_passphrase_keys(PASSPHRASE, salt, KdfParams(512, 1, 1))
    other_time = crypto.derive_passphrase_keys(PASSPHRASE, salt, KdfParams(256, 2, 1))
    other_words = crypto.derive_passphrase_keys(PASSPHRASE + ".", salt, FAST)
    derived = [base, other_salt, other_params, other_time, other_words]
    all_keys = [k for d in derived for k in (d.login_key, d.key_encryption_key)]
    assert len(set(all_keys)) == len(all_keys)


def test_login_key_is_not_the_key_encryption_key():
    keys = crypto.derive_passphrase_keys(PASSPHRASE, crypto.new_salt(), FAST)
    assert keys.login_key != keys.key_encryption_key


def test_unicode_passphrase_derives():
    salt = crypto.new_salt()
    keys = crypto.derive_passphrase_keys("平静的港口 at dawn 🌅", salt, FAST)
    assert keys == crypto.derive_passphrase_keys("平静的港口 at dawn 🌅", salt, FAST)


def test_salts_are_random_and_16_bytes():
    salts = {crypto.new_salt() for _ in range(50)}
    assert len(salts) == 50 and all(len(s) == 16 for s in salts)


def test_verifier_depends_on_pepper_and_login_key():
    keys = crypto.derive_passphrase_keys(PASSPHRASE, crypto.new_salt(), FAST)
    pepper = b"p" * 32
    stored = crypto.login_verifier(pepper, keys.login_key)
    assert crypto.verifier_matches(pepper, keys.login_key, stored)
    assert not crypto.verifier_matches(b"q" * 32, keys.login_key, stored)
    assert not crypto.verifier_matches(pepper, keys.key_encryption_key, stored)
    assert keys.login_key not in stored


@pytest.mark.parametrize("params", [
    KdfParams(MIN_MEMORY_KIB - 1, 3, 1),
    KdfParams(19_455, 2, 1),
    KdfParams(65_536, 1, 1),
    KdfParams(65_536, MIN_ITERATIONS - 1, 1),
    KdfParams(65_536, 3, 0),
    KdfParams(256, 1, 1),
])
def test_kdf_params_below_the_floor_are_refused(params):
    with pytest.raises(WeakParameters):
        params.check()
    with pytest.raises(WeakParameters):
        params.check(allow_weak=False)
    params.check(allow_weak=True)  # test configuration only


@pytest.mark.parametrize("params", [KdfParams(19_456, 2, 1), KdfParams(65_536, 3, 1),
                                    KdfParams(19_456, 2, 4)])
def test_kdf_params_at_or_above_the_floor_pass(params):
    params.check()
    assert MIN_MEMORY_KIB == 19_456 and MIN_ITERATIONS == 2


def test_weak_parameters_is_a_crypto_error():
    assert issubclass(WeakParameters, crypto.CryptoError)


# --- recovery codes ----------------------------------------------------------------------------

_BASE32 = set(string.ascii_uppercase + "234567")


def test_recovery_code_has_at_least_128_random_bits():
    code = crypto.new_recovery_code()
    symbols = code.replace("-", "")
    assert set(symbols) <= _BASE32
    assert len(symbols) * 5 >= 128  # each base32 symbol carries 5 bits
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{1,4})+", code)
    decoded = base64.b32decode(symbols + "=" * (-len(symbols) % 8))
    assert len(decoded) * 8 >= 128


def test_recovery_codes_are_unique():
    codes = {crypto.new_recovery_code() for _ in range(200)}
    assert len(codes) == 200


@pytest.mark.parametrize("typed", [
    lambda c: c.lower(),
    lambda c: c.replace("-", ""),
    lambda c: c.replace("-", " "),
    lambda c: "  " + c.replace("-", "  ").lower() + "\n",
    lambda c: c.replace("-", "").lower()[:7] + " - " + c.replace("-", "").lower()[7:],
    lambda c: c.replace("O", "0").replace("I", "1").replace("B", "8"),
], ids=["lower", "no-dashes", "spaces", "messy", "odd-grouping", "look-alikes"])
def test_normalise_recovery_code_accepts_how_people_type(typed):
    code = crypto.new_recovery_code()
    assert crypto.normalise_recovery_code(typed(code)) == code
    salt = crypto.new_salt()
    assert crypto.recovery_key(typed(code), salt) == crypto.recovery_key(code, salt)


def test_recovery_key_depends_on_code_and_salt():
    code, salt = crypto.new_recovery_code(), crypto.new_salt()
    key = crypto.recovery_key(code, salt)
    assert len(key) == 32
    assert key != crypto.recovery_key(code, crypto.new_salt())
    assert key != crypto.recovery_key(crypto.new_recovery_code(), salt)


# --- lookups and link secrets ------------------------------------------------------------------


def test_lookup_value_normalises_case_and_whitespace():
    pepper = b"k" * 32
    base = crypto.lookup_value(pepper, "login-name", "Robin Example")
    for variant in ["robin example", "ROBIN EXAMPLE", "  Robin   Example ", "robin\texample\n",
                    "Robin\u00a0Example"]:
        assert crypto.lookup_value(pepper, "login-name", variant) == base, variant
    assert crypto.lookup_value(pepper, "login-name", "RobinExample") != base
    assert crypto.lookup_value(pepper, "address", "Robin Example") != base
    assert crypto.lookup_value(b"j" * 32, "login-name", "Robin Example") != base
    assert b"robin" not in base.lower()


def test_lookup_value_casefolds_unicode():
    pepper = b"k" * 32
    assert (crypto.lookup_value(pepper, "login-name", "STRASSE")
            == crypto.lookup_value(pepper, "login-name", "straße"))


def test_link_secret_encoding_round_trip():
    secret = crypto.random_token(20)
    text = crypto.encode_link_secret(secret)
    assert "=" not in text and "#" not in text
    assert crypto.decode_link_secret(text) == secret
    assert crypto.decode_link_secret(f"https://example.org/invite#{text}") == secret
    assert crypto.decode_link_secret("  " + text + "\n") == secret
    assert crypto.decode_link_secret("too-short") is None
    assert crypto.decode_link_secret("!" * 30) is None
    assert crypto.decode_link_secret(crypto.encode_link_secret(b"x" * 8)) is None


def test_secret_lookup_and_key_are_distinct_and_purpose_bound():
    secret = crypto.random_token(20)
    lookup, key = crypto.secret_lookup_and_key(secret, "client-invitation")
    assert lookup != key
    assert (lookup, key) == crypto.secret_lookup_and_key(secret, "client-invitation")
    other_lookup, other_key = crypto.secret_lookup_and_key(secret, "counsellor-invitation")
    assert {other_lookup, other_key}.isdisjoint({lookup, key})


def test_token_hash_and_digest_comparison():
    token = crypto.random_token()
    assert len(token) == 32
    digest = crypto.token_hash(token)
    assert len(digest) == 32 and token not in digest
    assert crypto.digests_equal(digest, crypto.token_hash(token))
    assert not crypto.digests_equal(digest, crypto.token_hash(crypto.random_token()))


# --- key-derivation parameters live on the user's row ------------------------------------------


def _kdf_row(app, login):
    with session_for(app) as db:
        user = db.scalar(select(User).where(User.login_name == login))
        return (user.kdf_memory_kib, user.kdf_iterations, user.kdf_lanes, user.kdf_salt)


def test_login_uses_the_parameters_stored_with_the_user(app, counsellor):
    assert _kdf_row(app, "ada")[:3] == (256, 1, 1)
    # The operator raises the cost after ada signed up.
    app.config.update(KDF_MEMORY_KIB=512, KDF_ITERATIONS=2)

    fresh = Browser(app.test_client())
    resp = sign_in(fresh, "ada", PASSPHRASE)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert resp.headers["Location"] == "/"
    assert fresh.get("/").status_code == 200
    # Signing in does not silently rewrite the row's parameters.
    assert _kdf_row(app, "ada")[:3] == (256, 1, 1)

    # A colleague who joins now gets the new parameters.
    colleague = invite_and_join(app, counsellor, "grace")
    assert colleague.get("/").status_code == 200
    memory, iterations, lanes, salt = _kdf_row(app, "grace")
    assert (memory, iterations, lanes) == (512, 2, 1)
    assert salt != _kdf_row(app, "ada")[3]
    again = Browser(app.test_client())
    assert sign_in(again, "grace", PASSPHRASE).status_code == 302


def test_login_fails_when_the_row_parameters_are_changed(app, counsellor):
    """The row's parameters really are the ones used: altering them breaks the verifier."""
    with session_for(app) as db:
        user = db.scalar(select(User).where(User.login_name == "ada"))
        user.kdf_memory_kib = 512
        db.commit()
    fresh = Browser(app.test_client())
    resp = sign_in(fresh, "ada", PASSPHRASE)
    assert resp.status_code == 200
    assert "don't match" in resp.get_data(as_text=True).replace("&#39;", "'")


# --- the boundary -------------------------------------------------------------------------------

# Libraries that compute keys, ciphers, MACs or randomness for secrets.
_CRYPTO_LIBRARIES = {"cryptography", "hashlib", "hmac", "argon2", "nacl", "pyotp", "Crypto"}


def test_no_module_outside_journal_crypto_does_cryptography():
    """All encryption, MACs, digests and secret randomness live in journal/crypto (STYLE 4):
    nothing else imports a library for them, reads os.urandom, or takes anything from
    `secrets` but `choice` (pseudonyms and demo words, which are not secrets)."""
    import ast
    from pathlib import Path

    package = Path(crypto.__file__).resolve().parent.parent
    offences = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] == "crypto":
            continue
        tree = ast.parse(path.read_text(), str(path))
        where = path.relative_to(package.parent)
        imported = set()  # the modules imported whole: `secrets.x` and `os.x` then mean them
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    imported.add(alias.asname or alias.name)
                    if alias.name.split(".")[0] in _CRYPTO_LIBRARIES:
                        offences.append(f"{where}:{node.lineno} import {alias.name}")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                used = {a.name for a in node.names}
                if (node.module.split(".")[0] in _CRYPTO_LIBRARIES
                        or node.module == "secrets" and used - {"choice"}
                        or node.module == "os" and "urandom" in used):
                    offences.append(f"{where}:{node.lineno} from {node.module} import {used}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (
                    node.value.id == "secrets" and "secrets" in imported
                    and node.attr != "choice"
                    or node.value.id == "os" and "os" in imported and node.attr == "urandom"):
                offences.append(f"{where}:{node.lineno} {node.value.id}.{node.attr}")
    assert offences == []
