from services.analytics.app import service
from shared.service import serve

serve(service)
