async def test_signin_and_me(world):
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)
    response = await client.get("/api/me")
    assert response.status_code == 200
    assert response.json()["username"] == "dana"
