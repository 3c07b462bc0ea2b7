from chalicelib.domain.ids import derived_id, is_ulid


def test_a_derived_id_is_a_ulid_fixed_by_its_purpose_owner_and_key():
    made = derived_id("deposit", "81234567800013", "erp-42")
    assert is_ulid(made) and made[0] in "01234567"  # 128 bits, as a ULID
    assert made == derived_id("deposit", "81234567800013", "erp-42")
    others = {
        derived_id("flow", "81234567800013", "erp-42"),
        derived_id("deposit", "82345678900010", "erp-42"),
        derived_id("deposit", "81234567800013", "erp-43"),
        derived_id("deposit", "8123456780001", "3\0erp-42"),  # the separator keeps the parts apart
    }
    assert made not in others and len(others) == 4
