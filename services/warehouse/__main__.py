from services.warehouse.app import service
from shared.runtime.service import serve

serve(service)
