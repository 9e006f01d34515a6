package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mongo.backend.ReplyFacts;
import io.phigate.mongo.command.Command;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenCursorsTest {
    private static Command command(String name, Long... cursors) {
        return new Command(name, "clinic", "notes", List.of(), null, null, List.of(), List.of(), null,
                List.of(cursors), 0);
    }

    private static ReplyFacts reply(boolean ok, long cursorId) {
        return new ReplyFacts(ok, null, 1, cursorId, false);
    }

    @Test
    void aCursorIsOwnedFromTheReplyThatNamesItUntilTheReplyThatClosesIt() {
        OpenCursors open = new OpenCursors();
        assertThat(open.ownsAll(List.of(7L))).isFalse();
        open.update(command("find"), reply(true, 7));
        assertThat(open.ownsAll(List.of(7L))).isTrue();
        assertThat(open.origin(7)).isEqualTo("clinic.notes");
        open.update(command("getMore", 7L), reply(true, 7));
        assertThat(open.ownsAll(List.of(7L))).isTrue();
        open.update(command("getMore", 7L), reply(true, 0));
        assertThat(open.ownsAll(List.of(7L))).isFalse();
    }

    @Test
    void killCursorsForgetsOnlyWhenTheServerConfirms() {
        OpenCursors open = new OpenCursors();
        open.update(command("aggregate"), reply(true, 8));
        open.update(command("killCursors", 8L), reply(false, 0));
        assertThat(open.ownsAll(List.of(8L))).isTrue();
        open.update(command("killCursors", 8L), reply(true, 0));
        assertThat(open.ownsAll(List.of(8L))).isFalse();
    }

    @Test
    void beyondTheBoundTheOldestIsForgottenSoItsGetMoreIsRefused() {
        OpenCursors open = new OpenCursors();
        for (long id = 1; id <= OpenCursors.MAX + 1; id++) {
            open.update(command("find"), reply(true, id));
        }
        assertThat(open.size()).isEqualTo(OpenCursors.MAX);
        assertThat(open.ownsAll(List.of(1L))).isFalse();
        assertThat(open.ownsAll(List.of((long) OpenCursors.MAX + 1))).isTrue();
    }
}
