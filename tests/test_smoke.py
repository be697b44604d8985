from conftest import new_case, new_session


def test_counsellor_can_reach_dashboard(counsellor):
    resp = counsellor.get("/")
    assert resp.status_code == 200
    assert "Your cases" in resp.get_data(as_text=True)


def test_case_and_session_pages(counsellor):
    case_id = new_case(counsellor)
    page = counsellor.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Robin Example" in page
    session_id = new_session(counsellor, case_id)
    page = counsellor.get(f"/cases/{case_id}/sessions/{session_id}").get_data(as_text=True)
    assert "Session 1" in page
