from services.delivery.app import service
from shared.service import serve

serve(service)
