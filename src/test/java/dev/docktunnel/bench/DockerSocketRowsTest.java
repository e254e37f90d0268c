package dev.docktunnel.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The warm-up client's end of an answer: by Content-Length, not by the server's EOF. */
class DockerSocketRowsTest {

    private static ByteBuffer filled(String text) {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        buffer.put(text.getBytes(StandardCharsets.ISO_8859_1));
        return buffer;
    }

    @Test
    void anAnswerIsCompleteOnceItsContentLengthArrived() {
        String headers = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\ncontent-length: 2\r\n\r\n";
        assertFalse(DockerSocketRows.answerComplete(filled("HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n")));
        assertFalse(DockerSocketRows.answerComplete(filled(headers)));
        assertFalse(DockerSocketRows.answerComplete(filled(headers + "O")));
        assertTrue(DockerSocketRows.answerComplete(filled(headers + "OK")));
    }

    @Test
    void withoutAContentLengthTheAnswerEndsWithTheConnection() {
        assertFalse(DockerSocketRows.answerComplete(filled("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nOK")));
        assertFalse(DockerSocketRows.answerComplete(filled("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nOK")));
    }
}
