from services.order.app import service
from runtime.service import serve

serve(service)
