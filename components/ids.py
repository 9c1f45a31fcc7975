"""Every component id in the app, in one place.

Ids starting with a prefix below belong to a role: the server refuses a callback that
reads or writes one of them for anyone below that role (auth/permissions.py).
"""

REVIEWER_PREFIXES = ("agreement-", "export-", "exchange-", "review-")
ADMIN_PREFIXES = ("import-", "admin-")
# ... and of these, only the deployment's admins (accounts, projects), not a project's
DEPLOYMENT_ADMIN_PREFIXES = ("admin-user", "admin-project")

# stores
PROJECT = "project-store"  # the slug of the project the page works in (sent by every callback)
ANNOTATOR = "annotator-store"  # local storage: who is annotating
POSITION = "position-store"  # local storage: {"batch", "key", "index"} of the current image
LABEL = "label-store"  # local storage: selected label name
IMAGE = "image-store"  # the current image: key, size, url, index, total, error
TAB_ID = "tab-id-store"  # a random id per page load: which browser tab saved a version
RECORDS = "records-store"  # local storage: the current image's records + save state
PREFETCH = "prefetch-store"  # URLs of the next images, fetched ahead by the browser
PREFETCHED = "prefetched-store"  # written by the clientside prefetch (no other use)
FITTED = "fitted-store"  # the image key the axes were last fitted to (clientside)

# projects
PROJECT_NAME = "project-name"  # the header's project name (one project only)
PROJECT_MENU = "project-menu"  # the header's project switcher
PROJECT_CHOICE = "project-choice"  # pattern type: one switcher entry, index = slug
PROJECT_NOTE = "project-note"  # the address named a project the viewer may not open

# identity
NAME_MODAL = "name-modal"
NAME_INPUT = "name-input"
NAME_SAVE = "name-save"
NAME_ERROR = "name-error"
ANNOTATOR_BADGE = "annotator-badge"
CHANGE_NAME = "change-name"
SIGNED_IN_AS = "signed-in-as"  # sign-in on: who and which role
SIGN_OUT = "sign-out"
LOCAL_MODE = "local-mode"  # sign-in off: says so

# drawing
GRAPH = "graph"
LABEL_BUTTON = "label-button"  # pattern-matching type: {"type": LABEL_BUTTON, "index": name}

# table
GRID = "grid"
DELETE_ROWS = "delete-rows"

# navigation
PREV = "prev"
NEXT = "next"
JUMP = "jump"
BATCH = "batch"
REFRESH = "refresh-listing"
NO_OBJECTS = "no-objects"
SKIP = "skip"
POSITION_TEXT = "position-text"
PROGRESS = "progress"
PROGRESS_TEXT = "progress-text"

# feedback
MESSAGE = "message"
SOURCE_WARNING = "source-warning"
SAVE_STATUS = "save-status"
RETRY = "retry-save"
RETRY_TIMER = "retry-timer"

# history of the current image
HISTORY_UNDO = "history-undo"
HISTORY_OPEN = "history-open"
HISTORY_COLLAPSE = "history-collapse"
HISTORY_LIST = "history-list"

# import / export
EXCHANGE_OPEN = "exchange-open"
EXCHANGE_PANEL = "exchange-panel"
EXCHANGE_IMPORTED = "exchange-imported"  # when the last import finished: export lists refresh
EXPORT_FORMAT = "export-format"
EXPORT_ANNOTATOR = "export-annotator"
EXPORT_BATCH = "export-batch"
EXPORT_SEGMENTS = "export-segments"
EXPORT_BUTTON = "export-button"
EXPORT_PROGRESS = "export-progress"
EXPORT_RESULT = "export-result"
EXPORT_DOWNLOAD = "export-download"
EXPORT_HISTORY = "export-history"  # the change history as CSV
EXPORT_HISTORY_DOWNLOAD = "export-history-download"
IMPORT_FORMAT = "import-format"
IMPORT_ANNOTATOR = "import-annotator"
IMPORT_UPLOAD = "import-upload"
IMPORT_PROGRESS = "import-progress"
IMPORT_RESULT = "import-result"

# page tabs
TABS = "page-tabs"
TAB_ANNOTATE = "tab-annotate"  # tab_id values of dbc.Tab (not component ids)
TAB_AGREEMENT = "tab-agreement"

# agreement tab
AGREEMENT_THRESHOLD = "agreement-threshold"
AGREEMENT_COMPUTE = "agreement-compute"
AGREEMENT_PROGRESS = "agreement-progress"
AGREEMENT_STATUS = "agreement-status"
AGREEMENT_REPORT = "agreement-report"  # the last report: to_json() + distributions + ranking
AGREEMENT_CACHE_KEY = "agreement-cache-key"  # {"fingerprint", "threshold"} of that report
AGREEMENT_RESULTS = "agreement-results"  # shown once a report exists
AGREEMENT_CARDS = "agreement-cards"
AGREEMENT_INTRA = "agreement-intra"  # each annotator against their own second pass
AGREEMENT_MODELS = "agreement-models"  # each detector against the people's consensus
AGREEMENT_WITHOUT_SUGGESTIONS = "agreement-without-suggestions"  # leave accepted ones out
AGREEMENT_METRIC = "agreement-metric"
AGREEMENT_HEATMAP = "agreement-heatmap"
AGREEMENT_AREA = "agreement-area"
AGREEMENT_EDGES = "agreement-edges"
AGREEMENT_MISSES = "agreement-misses"
AGREEMENT_CONFUSION_WHO = "agreement-confusion-who"
AGREEMENT_CONFUSION = "agreement-confusion"
AGREEMENT_IMAGES = "agreement-images"
AGREEMENT_COMPARE = "agreement-compare"  # the comparison view's container
AGREEMENT_COMPARE_GRAPH = "agreement-compare-graph"
AGREEMENT_DOWNLOAD_BUTTON = "agreement-download-button"
AGREEMENT_DOWNLOAD = "agreement-download"

# active time
TIME_SPENT = "time-spent-store"  # {key, annotator, seconds} of the image just left (clientside)

# admin tab (admins only: users and assignment settings)
TAB_ADMIN = "tab-admin"
ADMIN_CHANGED = "admin-changed"  # when an account or setting was last saved: lists refresh
ADMIN_USERS = "admin-users"
ADMIN_USER_NAME = "admin-user-name"
ADMIN_USER_ROLE = "admin-user-role"
ADMIN_USER_PASSWORD = "admin-user-password"
ADMIN_USER_SAVE = "admin-user-save"
ADMIN_USER_REMOVE = "admin-user-remove"
ADMIN_USER_RESULT = "admin-user-result"
ADMIN_PER_IMAGE = "admin-per-image"
ADMIN_CLAIM_MINUTES = "admin-claim-minutes"
ADMIN_REPEAT_PERCENT = "admin-repeat-percent"
ADMIN_SETTINGS_SAVE = "admin-settings-save"
ADMIN_SETTINGS_RESULT = "admin-settings-result"

# --- suggestions
SUGGESTIONS = "suggestions-store"  # a detector's undecided suggestions on the current image
SUGGEST_PANEL = "suggest-panel"  # hidden when suggestions are off for this project
SUGGEST_BUTTON = "suggest-button"  # key s
SUGGEST_NOTE = "suggest-note"  # why Suggest is disabled, and how to switch it on
SUGGEST_MIN_SCORE = "suggest-min-score"  # slider: suggestions below it are not shown
SUGGEST_ACCEPT_ALL = "suggest-accept-all"  # key a
SUGGEST_REJECT_ALL = "suggest-reject-all"
SUGGEST_STATUS = "suggest-status"  # how many, from which model, how fast
SUGGEST_LIST = "suggest-list"
SUGGEST_ACCEPT = "suggest-accept"  # pattern-matching type: {"type": ..., "index": suggestion id}
SUGGEST_REJECT = "suggest-reject"  # pattern-matching type, as SUGGEST_ACCEPT

# --- admin model jobs (Admin tab: pre-annotate a batch, train; admin- ids are role-guarded)
ADMIN_MODEL_VERSION = "admin-model-version"  # the detector's version now, with its head
ADMIN_MODEL_BATCH = "admin-model-batch"
ADMIN_MODEL_MIN_SCORE = "admin-model-min-score"
ADMIN_MODEL_PREDICT = "admin-model-predict"  # the Pre-annotate button
ADMIN_MODEL_PREDICT_PROGRESS = "admin-model-predict-progress"
ADMIN_MODEL_PREDICT_RESULT = "admin-model-predict-result"
ADMIN_MODEL_TRAIN = "admin-model-train"
ADMIN_MODEL_TRAIN_PROGRESS = "admin-model-train-progress"
ADMIN_MODEL_TRAIN_RESULT = "admin-model-train-result"

# --- what fires per move (issue 17): clientside gates, so a server callback is asked
# only when it has something to show
PROGRESS_SEEN = "progress-seen-store"  # {key, drawn} of the records last counted (clientside)
PROGRESS_ASK = "progress-ask-store"  # set when the image's saved shapes appear or all go
HISTORY_ASK = "history-ask-store"  # the records, set only while the history list is open
GRAPH_EDIT = "graph-edit-store"  # relayoutData that touches shapes (the browser drops the rest)
RENDER_ASK = "render-ask-store"  # the records, passed on unless a move already drew them
SIDE_PANE = "side-pane"  # the Annotate view's side column, built once the first picture shows
LAZY_PANE = "lazy-pane"  # pattern type: {type, tab}, a tab's content mounted once opened
RENDERED = "rendered-store"  # {key, rev} of the records a move drew with its figure

# --- explore and review (issue 14): gallery-, qa- are everyone's (the server limits an
# annotator to their own work); review- ids are the reviewers' (role-guarded)
URL = "url"  # dcc.Location: the gallery's filter and page live in its search string
LINK = "link-store"  # {"key"}: the image the page's address names (?image=), for `move`
OPEN_IMAGE = "open-image-store"  # {"key", "batch", "index", "view"}: a gallery click's target
REWORK_NOTICE = "rework-notice"  # annotate page: a reviewer's rework comment on this image
TAB_GALLERY = "tab-gallery"  # tab_id values of dbc.Tab (not component ids)
TAB_QA = "tab-qa"
TAB_REVIEW = "tab-review"

# gallery tab (owned by callbacks/gallery.py, components/gallery_tab.py)
GALLERY_ASK = "gallery-ask-store"  # {search, at}: set (clientside) when the gallery should render
GALLERY_ITEMS = "gallery-items-store"  # {"batch", "page", "tiles": [{key, index}]} shown now
GALLERY_CLICK = "gallery-click-store"  # {"tile": n, "at"}: a thumbnail clicked (clientside)
GALLERY_TILE = "gallery-tile"  # pattern-matching type: {"type": GALLERY_TILE, "index": n}
GALLERY_BATCH = "gallery-batch"
GALLERY_STATUS = "gallery-status"
GALLERY_LABEL = "gallery-label"
GALLERY_ANNOTATOR = "gallery-annotator"  # reviewers: whose work
GALLERY_FINISHED = "gallery-finished"  # reviewers: how many people finished the image
GALLERY_DISAGREEMENT = "gallery-disagreement"  # reviewers: disagreement above
GALLERY_SCORE = "gallery-score"  # a model's shape scores below
GALLERY_NAME = "gallery-name"
GALLERY_SHOW = "gallery-show"  # reviewers: whose shapes are drawn
GALLERY_APPLY = "gallery-apply"
GALLERY_NOTES = "gallery-notes"  # what was wrong with the URL, what was left out, errors
GALLERY_SUMMARY = "gallery-summary"  # "n images match"
GALLERY_PAGES = "gallery-pages"  # dbc.Pagination
GALLERY_GRID = "gallery-grid"

# label QA grid (owned by callbacks/qa.py, components/qa_tab.py)
QA_LABEL = "qa-label"  # the label whose shapes are shown
QA_WHO = "qa-who"  # whose shapes (annotators: their own only, whatever is sent)
QA_BATCH = "qa-batch"
QA_PREV = "qa-prev"
QA_NEXT = "qa-next"
QA_PAGE_TEXT = "qa-page-text"
QA_OFFSET = "qa-offset-store"  # the first shape shown (paged on the server)
QA_SHOWN = "qa-shown-store"  # [[id, version], ...] of the cards on the page
QA_SELECTED = "qa-selected-store"  # {id: version} of the chosen cards (clientside)
QA_GRID = "qa-grid"
QA_CARD = "qa-card"  # pattern-matching type: {"type": QA_CARD, "index": shape id}
QA_SELECT_PAGE = "qa-select-page"
QA_CLEAR = "qa-clear"
QA_COUNT = "qa-selected-count"
QA_NEW_LABEL = "qa-new-label"
QA_RELABEL = "qa-relabel"
QA_DELETE = "qa-delete"
QA_MESSAGE = "qa-message"

# review tab (owned by callbacks/review.py, components/review_tab.py)
REVIEW_BATCH = "review-batch"
REVIEW_REFRESH = "review-refresh"
REVIEW_RANK = "review-rank"  # compute the batch's disagreement (a background job)
REVIEW_RANK_PROGRESS = "review-rank-progress"
REVIEW_RANK_STATUS = "review-rank-status"
REVIEW_COUNTS = "review-counts"  # waiting, reviewed, needs rework
REVIEW_QUEUE = "review-queue"  # the queue's grid: a click opens the image
REVIEW_NEXT = "review-next"  # open the next image in the queue
REVIEW_CHANGED = "review-changed-store"  # when a verdict or ranking was saved: lists refresh
REVIEW_MESSAGE = "review-message"
REVIEW_VIEW = "review-view"  # the review of one image (hidden until one is open)
REVIEW_TITLE = "review-title"
REVIEW_IMAGE = "review-image-store"  # {key, batch, width, height, url, error}
REVIEW_GOLD = "review-gold-store"  # the image's gold records (a records state)
REVIEW_GRAPH = "review-graph"
REVIEW_GRAPH_EDIT = "review-graph-edit-store"  # relayoutData that touches shapes
REVIEW_LABEL = "review-label"  # the label of gold shapes drawn next
REVIEW_UNITS = "review-units"  # the units grid
REVIEW_ACCEPT_UNIT = "review-accept-unit"
REVIEW_TAKE_WHO = "review-take-who"
REVIEW_TAKE = "review-take"
REVIEW_DROP = "review-drop"
REVIEW_ACCEPT_ALL = "review-accept-all"
REVIEW_UNDO = "review-undo"
REVIEW_SAVE_STATUS = "review-save-status"
REVIEW_STATUS = "review-status"  # the image's review status now
REVIEW_ACCEPT = "review-accept"  # the verdict: gold counts from now on
REVIEW_REWORK_WHO = "review-rework-who"
REVIEW_COMMENT = "review-comment"
REVIEW_REWORK = "review-rework"  # the verdict: needs rework (comment required)
REVIEW_ADD_COMMENT = "review-add-comment"
REVIEW_THREAD = "review-thread"

# admin: projects (the Admin tab's Projects card; admin- ids are role-guarded)
ADMIN_PROJECTS = "admin-projects"  # the table of projects the admin may change
ADMIN_PROJECT_CHANGED = "admin-project-changed"  # when a project was last saved: lists refresh
ADMIN_PROJECT_PICK = "admin-project-pick"  # which project the form edits ("" = a new one)
ADMIN_PROJECT_VERSION = "admin-project-version"  # the edited project's version when loaded
ADMIN_PROJECT_NAME = "admin-project-name"
ADMIN_PROJECT_SLUG = "admin-project-slug"  # fixed once the project is made
ADMIN_PROJECT_SOURCE = "admin-project-source"
ADMIN_PROJECT_LABELS = "admin-project-labels"
ADMIN_PROJECT_PER_IMAGE = "admin-project-per-image"
ADMIN_PROJECT_CLAIM = "admin-project-claim"
ADMIN_PROJECT_REPEATS = "admin-project-repeats"
ADMIN_PROJECT_SUGGESTIONS = "admin-project-suggestions"
ADMIN_PROJECT_OPEN = "admin-project-open"  # open to every account
ADMIN_PROJECT_UPLOAD = "admin-project-upload"  # members (not only admins) may upload
ADMIN_PROJECT_MEMBERS = "admin-project-members"  # the member rows
ADMIN_PROJECT_ACCOUNTS = "admin-project-accounts"  # datalist: the accounts one may add
ADMIN_PROJECT_MEMBER_ACCOUNT = "admin-project-member-account"  # pattern type, index = row
ADMIN_PROJECT_MEMBER_ROLE = "admin-project-member-role"  # pattern type, index = row
ADMIN_PROJECT_ADD_MEMBER = "admin-project-add-member"
ADMIN_PROJECT_SAVE = "admin-project-save"
ADMIN_PROJECT_RESULT = "admin-project-result"

# admin: label set (the Admin tab's Label set card, for the page's project; admin- ids)
ADMIN_LABELS_GRID = "admin-labels-grid"  # one row per label: colour, key, description, state
ADMIN_LABELS_VERSION = "admin-labels-version"  # the project's version the grid shows
ADMIN_LABELS_NEW = "admin-labels-new"  # the name of a label to add
ADMIN_LABELS_ADD = "admin-labels-add"
ADMIN_LABELS_RENAME_TO = "admin-labels-rename-to"  # the new name for the selected label
ADMIN_LABELS_RENAME = "admin-labels-rename"
ADMIN_LABELS_RETIRE = "admin-labels-retire"  # retires the selected label, or brings it back
ADMIN_LABELS_UP = "admin-labels-up"
ADMIN_LABELS_DOWN = "admin-labels-down"
ADMIN_LABELS_RESULT = "admin-labels-result"

# upload images (issue 15): the Gallery tab's Upload card, shown to those who may upload.
# Not role-guarded by prefix: no callback uses them; assets/upload.js drives the card and
# the /uploads/ routes (uploads_web.py) check who may upload.
UPLOAD_CARD = "upload-card"  # data-project: the page's project slug
UPLOAD_BATCH = "upload-batch"  # the batch to upload into (a datalist offers existing ones)
UPLOAD_BATCHES = "upload-batches"  # the datalist (filled by upload.js)
UPLOAD_DUPLICATES = "upload-duplicates"  # refuse / rename
UPLOAD_PICKER = "upload-picker"  # holds the file input (made by upload.js)
UPLOAD_FILES = "upload-files"  # <input type=file multiple accept=image/*> (made by upload.js)
UPLOAD_HINT = "upload-hint"  # the size limit and allowed types
UPLOAD_STATUS = "upload-status"  # the batch's outcome in a sentence
UPLOAD_LIST = "upload-list"  # holds one row per file with its progress bar (upload.js)
