IDENTITY = {
    "alias_name": "Jamie Calloway",
    "date_of_birth": "1994-05-17",
    "location": "Springfield",
    "legend": "Warehouse worker, likes motorbikes.",
    "photo_provenance": [
        {"source": "generated", "description": "synthetic portrait", "depicts_department_employee": False}
    ],
}


async def test_request_approve(world):
    dana = await world.user("dana", "detective")
    sam = await world.user("sam", "supervisor")
    alex = await world.user("alex", "authorizing_official")
    d = await world.signin(dana)
    r = await d.post("/api/investigations", json={
        "case_number": "2026-0042", "title": "Op", "purpose": "p", "necessity": "n", "proportionality": "p",
        "collateral_intrusion": "c"})
    assert r.status_code == 201, r.text
    inv = r.json()["id"]
    a = await world.signin(alex)
    r = await a.post(f"/api/investigations/{inv}/authorize", json={"totp_code": world.code(alex)})
    assert r.status_code == 200, r.text
    r = await d.post("/api/personas", json={"investigation_id": inv, "identity": IDENTITY})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = await d.post(f"/api/personas/{pid}/submit")
    assert r.status_code == 200, r.text
    s = await world.signin(sam)
    r = await s.post(f"/api/personas/{pid}/approve", json={"totp_code": world.code(sam)})
    assert r.status_code == 200, r.text
    r = await d.get(f"/api/personas/{pid}")
    assert r.status_code == 200, r.text
    assert r.json()["identity"]["alias_name"] == "Jamie Calloway"
    r = await d.get("/api/personas")
    assert r.status_code == 200, r.text
    r = await d.post("/api/personas", json={"investigation_id": inv, "identity": IDENTITY})
    assert r.status_code == 409, r.text
    print(r.json())
