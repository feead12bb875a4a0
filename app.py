"""The Chalice app: registers blueprints and middleware, nothing else of substance."""

from chalice.app import Chalice

from chalicelib import log
from chalicelib.api.admin import admin_api
from chalicelib.api.api_keys import api_keys_api
from chalicelib.api.catalog import catalog_api
from chalicelib.api.cors import cors, cors_api
from chalicelib.api.dashboard import dashboard_api
from chalicelib.api.donations import donations_api
from chalicelib.api.eligibility import eligibility_api
from chalicelib.api.event_functions import event_functions
from chalicelib.api.fallback import fallback_api
from chalicelib.api.gifts import gifts_api
from chalicelib.api.giving import giving_api
from chalicelib.api.kit import kit_api
from chalicelib.api.members import members_api
from chalicelib.api.membership_report import membership_report_api
from chalicelib.api.middleware import error_shape
from chalicelib.api.offer import offer_api
from chalicelib.api.openapi import openapi_api
from chalicelib.api.program_report import program_report_api
from chalicelib.api.referrals import referrals_api
from chalicelib.api.shopper import shopper_api
from chalicelib.api.webhook_endpoints import webhook_endpoints_api
from chalicelib.api.webhooks import webhooks_api

log.configure()
app = Chalice(app_name="vip-rewards")
app.register_middleware(error_shape, "http")
app.register_middleware(cors, "http")

app.register_blueprint(catalog_api)
app.register_blueprint(api_keys_api)
app.register_blueprint(openapi_api)
app.register_blueprint(members_api)
app.register_blueprint(eligibility_api)
app.register_blueprint(donations_api)
app.register_blueprint(membership_report_api)
app.register_blueprint(program_report_api)
app.register_blueprint(webhooks_api)
app.register_blueprint(admin_api)
app.register_blueprint(dashboard_api)
app.register_blueprint(webhook_endpoints_api)
app.register_blueprint(event_functions)
app.register_blueprint(shopper_api)
app.register_blueprint(offer_api)
app.register_blueprint(kit_api)
app.register_blueprint(giving_api)
app.register_blueprint(referrals_api)
app.register_blueprint(gifts_api)
app.register_blueprint(cors_api)
# Last: catch-all answers for unknown paths.
app.register_blueprint(fallback_api)
