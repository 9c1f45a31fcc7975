"""The page's address names its project and image (?project=slug&image=key): a shared link
opens that image, the address follows the image shown (so a reload stays put), and Back
and Forward go to the images before and after. In the browser only; `move` (navigation.py)
goes to the image the link store names."""

from __future__ import annotations

from dash import Input, Output, State, clientside_callback

from components import ids

# The image shown becomes the address (a new history entry, so Back returns to the image
# before), while the Annotate view is open.
clientside_callback(
    """function(image, active, search, project) {
        const no = window.dash_clientside.no_update;
        if (!image || !image.key || !project || active !== "@TAB@") { return no; }
        const params = new URLSearchParams(search || "");
        if (params.get("image") === image.key && params.get("project") === project) {
            return no;
        }
        params.delete("view");
        params.set("project", project);
        params.set("image", image.key);
        return "?" + params.toString();
    }""".replace("@TAB@", ids.TAB_ANNOTATE),
    Output(ids.URL, "search", allow_duplicate=True),
    Input(ids.IMAGE, "data"),
    Input(ids.TABS, "active_tab"),
    State(ids.URL, "search"),
    State(ids.PROJECT, "data"),
    prevent_initial_call=True,
)

# An address naming another image than the one shown (Back, Forward) asks `move` for it.
clientside_callback(
    """function(search, image) {
        const no = window.dash_clientside.no_update;
        const key = new URLSearchParams(search || "").get("image");
        if (!key || !image || !image.key || image.key === key) { return no; }
        return {key: key, at: Date.now()};
    }""",
    Output(ids.LINK, "data"),
    Input(ids.URL, "search"),
    State(ids.IMAGE, "data"),
    prevent_initial_call=True,
)
