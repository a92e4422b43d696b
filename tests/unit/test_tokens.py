from __future__ import annotations

from codeassist_lsp.index.tokens import (
    identifiers_in,
    index_terms,
    names_in,
    query_terms,
    split_identifier,
    valid_text,
)


def test_split_camel_and_snake() -> None:
    assert split_identifier("fetchUserName") == ["fetch", "user", "name"]
    assert split_identifier("fetch_user_name") == ["fetch", "user", "name"]
    assert split_identifier("HTTPServerError") == ["http", "server", "error"]


def test_index_terms_keep_whole_identifier() -> None:
    terms = index_terms("retry_request(maxRetries)")
    assert {"retry", "request", "retryrequest", "max", "retries", "maxretries"} <= set(terms)


def test_query_terms_drop_stop_words_but_never_everything() -> None:
    assert query_terms("where do we retry failed requests") == ["retry", "failed", "requests"]
    assert query_terms("what is it") == ["what", "is", "it"]


def test_identifiers_in_question() -> None:
    assert identifiers_in("who calls load_config and Client.sendRequest?") == [
        "load_config",
        "Client.sendRequest",
    ]
    assert identifiers_in("how are tokens refreshed") == []
    assert identifiers_in("who calls parse() or `render`?") == ["parse", "render"]
    assert identifiers_in("How does the Router pick a handler") == ["Router"]


def test_names_in_a_short_query_are_every_word_but_only_identifiers_in_a_sentence() -> None:
    assert names_in("Router") == ["Router"]
    assert names_in("retry sleep") == ["retry", "sleep"]
    assert names_in("Store.get.") == ["Store.get"]
    assert names_in("how do we retry a request") == []
    assert names_in("where is parse_args called") == ["parse_args"]


def test_lone_surrogates_become_replacement_characters() -> None:
    assert valid_text("retry \udcff\udcfe now") == "retry \ufffd\ufffd now"
    assert valid_text("café 😀") == "café 😀"
