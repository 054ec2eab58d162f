"""Form validation: what the server accepts is what the rest of the platform can use."""

from __future__ import annotations

import pytest

from forms.validation import FormInvalid, validate

SCHEMA = {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}


@pytest.mark.parametrize("address", ["warga@contoh.id", "a.b+c@mail.kota.go.id"])
def test_an_address_the_mailer_can_send_to_is_accepted(address: str) -> None:
    assert validate(SCHEMA, {"email": address}) == {"email": address}


@pytest.mark.parametrize("address", ["p  yélo@contoh.id", "tanpa-titik@contoh", "dua@@contoh.id", "<a>@contoh.id"])
def test_an_address_the_mailer_would_refuse_is_a_field_error(address: str) -> None:
    with pytest.raises(FormInvalid) as info:
        validate(SCHEMA, {"email": address})
    error = info.value.field_errors[0]
    assert (error.path, error.code) == ("email", "format")
    assert "email" in error.message_id
