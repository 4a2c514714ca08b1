import pytest


@pytest.fixture
def client_a(client, coordinator_a):
    client.force_login(coordinator_a)
    return client
