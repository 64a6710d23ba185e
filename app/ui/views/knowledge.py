from app.ui import knowledge_page

knowledge_page.render()
