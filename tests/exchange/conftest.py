from tests.exchange.registry_data import (  # noqa: F401  (fixtures)
    patient_a,
    patient_b,
    registry_forms,
    researcher_token,
    token_a,
)
