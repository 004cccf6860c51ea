from services.order.app import service
from shared.service import serve

serve(service)
