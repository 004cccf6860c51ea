from services.warehouse.app import service
from shared.service import serve

serve(service)
